//! The OpenAPI document (`api/api.yml`) as a test oracle: every response of the suite is held
//! against what the document says of its operation and status ([`check`], called by
//! `support::send`), so a test that exercises the API also proves the document true.
//!
//! What "true" means here:
//! - a request to a documented path and method gets a documented status, with the headers the
//!   document requires, a body of the documented media type that validates against the
//!   documented schema (JSON Schema 2020-12, OpenAPI 3.1's dialect), or an empty body where
//!   the document gives no content;
//! - a method the document does not give for a path is refused: 405 with an `Allow` header
//!   naming exactly the documented methods (or a common rule that comes first: 401, 404, 406,
//!   413, 415);
//! - a path the document does not have is 404 (or one of those common rules).
//!
//! Paths are matched as the document writes them; the app also serves each path with its
//! trailing slash toggled (`/1.0/users` for `/1.0/users/`), which the document says once, in
//! its description, so an undocumented path is retried with the slash toggled.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use jsonschema::Validator;
use serde_json::{json, Map, Value};

use crate::client::Response;
use crate::paths::workspace;

/// The statuses a request can get before it reaches a route (API.md: 415, then 406, then
/// 401, or 403 for a token without the scope; the body limit; Spin's 404 for a path no route
/// takes), and the document's shared response for each.
const BEFORE_ROUTING: &[(u16, &str)] = &[
    (401, "Unauthorized"),
    (403, "Forbidden"),
    (404, "NotFound"),
    (406, "NotAcceptable"),
    (413, "PayloadTooLarge"),
    (415, "UnsupportedMediaType"),
];

const METHODS: &[&str] = &[
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

pub struct Document {
    pub root: Value,
    /// Compiled schemas, by JSON pointer into the document.
    validators: Mutex<HashMap<String, &'static Validator>>,
}

/// `api/api.yml`, read once per test binary.
pub fn document() -> &'static Document {
    static DOCUMENT: OnceLock<Document> = OnceLock::new();
    DOCUMENT.get_or_init(|| {
        let path = workspace().join("api/api.yml");
        let text =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let yaml: serde_yaml::Value =
            serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        Document {
            root: to_json(yaml),
            validators: Mutex::new(HashMap::new()),
        }
    })
}

/// YAML to JSON, with YAML's non-string keys (`200:`) as strings, as OpenAPI reads them.
fn to_json(yaml: serde_yaml::Value) -> Value {
    use serde_yaml::Value as Y;
    match yaml {
        Y::Null => Value::Null,
        Y::Bool(b) => Value::Bool(b),
        Y::Number(n) => serde_json::to_value(&n).unwrap(),
        Y::String(s) => Value::String(s),
        Y::Sequence(items) => Value::Array(items.into_iter().map(to_json).collect()),
        Y::Mapping(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| {
                    let key = match k {
                        Y::String(s) => s,
                        other => serde_yaml::to_string(&other).unwrap().trim().to_string(),
                    };
                    (key, to_json(v))
                })
                .collect::<Map<_, _>>(),
        ),
        Y::Tagged(tagged) => to_json(tagged.value),
    }
}

impl Document {
    /// The document's paths, as written (`/1.0/users/{id}`).
    pub fn paths(&self) -> Vec<&str> {
        self.root["paths"]
            .as_object()
            .expect("paths")
            .keys()
            .map(String::as_str)
            .collect()
    }

    /// The methods the document gives for a path, upper-case.
    pub fn methods(&self, path: &str) -> Vec<String> {
        let item = self.resolve(&self.root["paths"][path]);
        METHODS
            .iter()
            .filter(|m| item.get(**m).is_some())
            .map(|m| m.to_ascii_uppercase())
            .collect()
    }

    /// The documented path a request path falls under: the one matching segment by segment,
    /// literal segments before templates; failing that, the same with the trailing slash
    /// toggled.
    pub fn path_for(&self, request_path: &str) -> Option<&str> {
        let best = |wanted: &str| {
            let wanted: Vec<&str> = wanted.split('/').collect();
            self.paths()
                .into_iter()
                .filter(|p| {
                    let doc: Vec<&str> = p.split('/').collect();
                    doc.len() == wanted.len()
                        && doc
                            .iter()
                            .zip(&wanted)
                            .all(|(d, w)| d == w || (is_template(d) && !w.is_empty()))
                })
                .min_by_key(|p| p.split('/').filter(|d| is_template(d)).count())
        };
        best(request_path).or_else(|| {
            let toggled = match request_path.strip_suffix('/') {
                Some(bare) => bare.to_string(),
                None => format!("{request_path}/"),
            };
            best(&toggled)
        })
    }

    /// Follow a `$ref` (`#/components/...`), or the value itself.
    fn resolve<'a>(&'a self, value: &'a Value) -> &'a Value {
        match value.get("$ref").and_then(Value::as_str) {
            Some(reference) => self.resolve(self.pointer(reference)),
            None => value,
        }
    }

    fn pointer(&self, reference: &str) -> &Value {
        let pointer = reference
            .strip_prefix('#')
            .unwrap_or_else(|| panic!("only local references: {reference}"));
        self.root
            .pointer(pointer)
            .unwrap_or_else(|| panic!("api/api.yml: no {reference}"))
    }

    /// Validate `instance` against the schema at `pointer`, its `$ref`s resolved in the
    /// whole document.
    fn validate(&self, pointer: &str, instance: &Value) -> Result<(), String> {
        let validator = {
            let mut cache = self.validators.lock().unwrap();
            *cache.entry(pointer.to_string()).or_insert_with(|| {
                let schema = self.root.pointer(pointer).unwrap().clone();
                // The schema as a subschema of a root that holds the document's components,
                // so that `#/components/schemas/...` resolves as it does in the document.
                let root = json!({
                    "$schema": "https://json-schema.org/draft/2020-12/schema",
                    "allOf": [schema],
                    "components": self.root["components"],
                });
                let validator = jsonschema::options()
                    .with_draft(jsonschema::Draft::Draft202012)
                    .build(&root)
                    .unwrap_or_else(|e| panic!("api/api.yml{pointer}: not a schema: {e}"));
                Box::leak(Box::new(validator))
            })
        };
        let errors: Vec<String> = validator
            .iter_errors(instance)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors.join("; "))
        }
    }
}

fn is_template(segment: &str) -> bool {
    segment.starts_with('{') && segment.ends_with('}')
}

/// Panic, saying how, when `response` to `method path` contradicts the document.
pub fn check(method: &str, path: &str, response: &Response) {
    if let Err(why) = conforms(method, path, response) {
        panic!(
            "{method} {path} → {} contradicts api/api.yml: {why}\nbody: {}",
            response.status,
            response.text()
        );
    }
}

fn conforms(method: &str, target: &str, response: &Response) -> Result<(), String> {
    let doc = document();
    let path = target.split(['?', '#']).next().unwrap_or("");
    if !path.starts_with("/1.0/") {
        // The console's page and files (console.rs): beside the API, not part of it.
        return Ok(());
    }
    let Some(documented) = doc.path_for(path) else {
        return before_routing(doc, response, "no such path in the document");
    };
    let operation = &doc.resolve(&doc.root["paths"][documented])[method.to_ascii_lowercase()];
    if operation.is_null() {
        let allowed = doc.methods(documented);
        if response.status == 405 {
            let mut sent: Vec<String> = response
                .header("allow")
                .ok_or("405 without Allow")?
                .split(',')
                .map(|m| m.trim().to_string())
                .collect();
            let mut allowed = allowed;
            sent.sort();
            allowed.sort();
            return if sent == allowed {
                empty(response)
            } else {
                Err(format!(
                    "Allow: {sent:?}, the document gives {allowed:?} for {documented}"
                ))
            };
        }
        return before_routing(doc, response, "method not in the document");
    }
    let status = response.status.to_string();
    let responses = &operation["responses"];
    let (key, documented_response) = [
        status.clone(),
        format!("{}XX", &status[..1]),
        "default".into(),
    ]
    .into_iter()
    .find_map(|k| responses.get(&k).map(|r| (k, r)))
    .ok_or_else(|| format!("status {status} not documented for {method} {documented}"))?;
    let base = format!(
        "/paths/{}/{}/responses/{key}",
        escape(documented),
        method.to_ascii_lowercase()
    );
    if method.eq_ignore_ascii_case("head") {
        // A HEAD's answer is the head a GET gets, without its body.
        return matches_head(doc, &base, documented_response, response);
    }
    matches_response(doc, &base, documented_response, response)
}

/// A response that no operation answers: one of the statuses the common rules give before
/// any route is looked at, as the document's shared responses describe them.
fn before_routing(doc: &Document, response: &Response, context: &str) -> Result<(), String> {
    let (_, name) = BEFORE_ROUTING
        .iter()
        .find(|(s, _)| *s == response.status)
        .ok_or_else(|| {
            format!(
                "{context}, and {} is not a common rule's status",
                response.status
            )
        })?;
    let reference = format!("#/components/responses/{name}");
    matches_response(
        doc,
        &reference[1..],
        &json!({ "$ref": reference }),
        response,
    )
}

/// A HEAD's `response` against the documented one: its headers, and no body.
fn matches_head(
    doc: &Document,
    pointer: &str,
    documented: &Value,
    response: &Response,
) -> Result<(), String> {
    let mut without_content = doc.resolve(documented).clone();
    if let Some(fields) = without_content.as_object_mut() {
        fields.remove("content");
    }
    matches_response(doc, pointer, &without_content, response)
}

/// Headers, media type and body of `response` against one documented response object
/// (`pointer` locates it, for schema references). Media are matched as `Accept` would:
/// `audio/wav` by `audio/wav`, `audio/*` or `*/*`.
fn matches_response(
    doc: &Document,
    pointer: &str,
    documented: &Value,
    response: &Response,
) -> Result<(), String> {
    let mut pointer = pointer.to_string();
    if let Some(reference) = documented.get("$ref").and_then(Value::as_str) {
        pointer = reference[1..].to_string();
    }
    let documented = doc.resolve(documented);
    if let Some(headers) = documented.get("headers").and_then(Value::as_object) {
        for (name, header) in headers {
            if name.eq_ignore_ascii_case("content-type") {
                continue; // OpenAPI: described by `content`, not here.
            }
            let header_pointer = match header.get("$ref").and_then(Value::as_str) {
                Some(reference) => reference[1..].to_string(),
                None => format!("{pointer}/headers/{}", escape(name)),
            };
            let header = doc.resolve(header);
            let values = response.header_all(&name.to_ascii_lowercase());
            if values.is_empty() {
                if header["required"] == json!(true) {
                    return Err(format!("no {name} header"));
                }
                continue;
            }
            let schema = format!("{header_pointer}/schema");
            if doc.root.pointer(&schema).is_some() {
                for value in values {
                    doc.validate(&schema, &json!(value))
                        .map_err(|e| format!("header {name}: {e}"))?;
                }
            }
        }
    }
    let content = documented.get("content").and_then(Value::as_object);
    let Some(content) = content.filter(|c| !c.is_empty()) else {
        return empty(response);
    };
    let content_type = response
        .header("content-type")
        .ok_or("a body is documented, and no Content-Type was sent")?;
    let media = content_type
        .split(';')
        .next()
        .unwrap()
        .trim()
        .to_ascii_lowercase();
    let family = format!("{}/*", media.split('/').next().unwrap_or(""));
    let Some(key) = [media.as_str(), family.as_str(), "*/*"]
        .into_iter()
        .find(|k| content.contains_key(*k))
    else {
        return Err(format!(
            "Content-Type {media}, the document gives {:?}",
            content.keys().collect::<Vec<_>>()
        ));
    };
    if key != media {
        return Ok(()); // Media (audio) the document gives no schema for.
    }
    let schema = format!("{pointer}/content/{}/schema", escape(&media));
    let resolved = doc.root.pointer(&schema);
    // No schema, or bytes (`format: binary`, the audio): nothing to hold the body to as text.
    if resolved.is_none_or(|s| s["format"] == "binary") {
        return Ok(());
    }
    let instance = if media == "application/json" || media.ends_with("+json") {
        serde_json::from_slice(&response.body).map_err(|e| format!("not JSON: {e}"))?
    } else {
        Value::String(String::from_utf8(response.body.clone()).map_err(|e| e.to_string())?)
    };
    doc.validate(&schema, &instance)
}

fn empty(response: &Response) -> Result<(), String> {
    if response.body.is_empty() {
        Ok(())
    } else {
        Err("the document gives no body, and one was sent".into())
    }
}

/// A JSON pointer token (RFC 6901).
fn escape(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}
