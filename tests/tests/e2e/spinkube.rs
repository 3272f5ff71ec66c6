//! README, "Deploying": the SpinKube manifests (`deploy/spinkube`) held to SpinKube's own CRDs
//! (`../shared/spinkube`, from `spinframework/spin-operator` at 943f5b1), to `spin.toml` and
//! to each other; the runtime config SpinKube's operator renders from them
//! ([`rendered_runtime_config`]), which the two-instance tests (`scale_out.rs`) run with, so
//! that the manifest and the tested configuration cannot drift apart; and the probes' paths,
//! under both runtimes.
//!
//! The CRDs are beside the checkout, not in it: without `../shared/spinkube` the validation
//! test is listed as not run (`testhost::skips`); the rest needs only the manifests.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::{json, Value};
use testhost::runtime_config::{Database, KeyValueStore, RuntimeConfig};

use crate::paths::workspace;
use crate::support::Server;

fn manifests() -> PathBuf {
    workspace().join("deploy/spinkube")
}

/// A YAML file as JSON.
fn load(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::to_value(
        serde_yaml::from_str::<serde_yaml::Value>(&text)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display())),
    )
    .unwrap()
}

fn spin_app() -> Value {
    load(&manifests().join("spinapp.yaml"))
}

/// The Secret of `secret.yaml`: its name, and its values (`stringData`; the file gives no
/// `data`, which would be base64).
struct Secret {
    name: String,
    values: BTreeMap<String, String>,
}

fn secret() -> Secret {
    let secret = load(&manifests().join("secret.yaml"));
    assert_eq!(
        (&secret["apiVersion"], &secret["kind"]),
        (&json!("v1"), &json!("Secret"))
    );
    assert!(
        secret.get("data").is_none(),
        "secret.yaml gives stringData only"
    );
    let values = secret["stringData"]
        .as_object()
        .expect("stringData")
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().expect("a string").to_string()))
        .collect();
    Secret {
        name: secret["metadata"]["name"].as_str().unwrap().to_string(),
        values,
    }
}

/// Every `secretKeyRef` of the SpinApp: (where, secret name, key).
fn secret_refs(app: &Value) -> Vec<(String, String, String)> {
    let mut refs = Vec::new();
    let mut collect = |place: String, item: &Value| {
        if let Some(r) = item.pointer("/valueFrom/secretKeyRef") {
            let text = |k: &str| r[k].as_str().unwrap_or_default().to_string();
            refs.push((place, text("name"), text("key")));
        }
    };
    for v in app["spec"]["variables"].as_array().into_iter().flatten() {
        collect(format!("variable {}", v["name"]), v);
    }
    for kind in ["sqliteDatabases", "keyValueStores"] {
        for store in app["spec"]["runtimeConfig"][kind]
            .as_array()
            .into_iter()
            .flatten()
        {
            for option in store["options"].as_array().into_iter().flatten() {
                collect(
                    format!("{kind} {} {}", store["name"], option["name"]),
                    option,
                );
            }
        }
    }
    refs
}

/// The runtime config SpinKube's operator renders from `app`'s `runtimeConfig` and mounts as
/// `/runtime-config.toml` (`internal/runtimeconfig` and `go-toml/v2`): Spin's environment
/// variables provider first, then `key_value_store` and `sqlite_database`, each store's
/// options with its `type`, by name, as single-quoted strings. An option's value is its
/// `value`, else its secret's key; where the operator would write an empty string for a key
/// the secret lacks, this refuses.
fn render(app: &Value, secret: &Secret) -> String {
    let mut out = String::from("[[config_provider]]\ntype = 'env'\nprefix = 'SPIN_VARIABLE_'\n");
    let config = &app["spec"]["runtimeConfig"];
    for (table, kind) in [
        ("key_value_store", "keyValueStores"),
        ("sqlite_database", "sqliteDatabases"),
    ] {
        let Some(stores) = config[kind].as_array().filter(|s| !s.is_empty()) else {
            continue;
        };
        out.push_str(&format!("\n[{table}]\n"));
        for (i, store) in stores.iter().enumerate() {
            let mut options = BTreeMap::new();
            options.insert(
                "type".to_string(),
                store["type"].as_str().unwrap().to_string(),
            );
            for option in store["options"].as_array().into_iter().flatten() {
                let value = match option["value"].as_str().filter(|v| !v.is_empty()) {
                    Some(value) => value.to_string(),
                    None => {
                        let r = &option["valueFrom"]["secretKeyRef"];
                        assert_eq!(r["name"], json!(secret.name), "{option}");
                        let key = r["key"].as_str().unwrap();
                        secret
                            .values
                            .get(key)
                            .unwrap_or_else(|| panic!("no {key}"))
                            .clone()
                    }
                };
                options.insert(option["name"].as_str().unwrap().to_string(), value);
            }
            if i > 0 {
                out.push('\n');
            }
            out.push_str(&format!("[{table}.{}]\n", store["name"].as_str().unwrap()));
            for (name, value) in options {
                out.push_str(&format!("{name} = {}\n", toml_string(&value)));
            }
        }
    }
    out
}

/// go-toml's choice: a literal string (`'...'`) where one can hold the text, else a basic one.
fn toml_string(text: &str) -> String {
    if text.contains('\'') || text.chars().any(char::is_control) {
        toml::Value::String(text.to_string()).to_string()
    } else {
        format!("'{text}'")
    }
}

/// The runtime config the operator renders from `deploy/spinkube` when the Secret names this
/// libSQL server and this Redis: what the two-instance tests run with.
pub fn rendered_runtime_config(database: &Database, key_value: &KeyValueStore) -> String {
    let (Database::Libsql { url, token }, KeyValueStore::Redis { url: redis }) =
        (database, key_value)
    else {
        panic!("a fleet is on a libSQL server and Redis");
    };
    let mut secret = secret();
    for (key, value) in [
        ("libsql-url", url),
        ("libsql-token", token),
        ("redis-url", redis),
    ] {
        let old = secret.values.insert(key.to_string(), value.clone());
        assert!(old.is_some(), "secret.yaml has no {key}");
    }
    render(&spin_app(), &secret)
}

/// A CRD's schema for its resource, made strict as `kubectl apply --validate=strict` is: a
/// field the schema does not know is an error (the API server would drop it silently).
fn crd_schema(file: &str) -> Option<Value> {
    let path = workspace().join("../shared/spinkube").join(file);
    if !path.exists() {
        return None;
    }
    let mut schema = load(&path)["spec"]["versions"][0]["schema"]["openAPIV3Schema"].clone();
    strict(&mut schema);
    Some(schema)
}

fn strict(schema: &mut Value) {
    let Some(object) = schema.as_object_mut() else {
        return;
    };
    if object.contains_key("properties")
        && !object.contains_key("additionalProperties")
        && !object.contains_key("x-kubernetes-preserve-unknown-fields")
    {
        object.insert("additionalProperties".into(), json!(false));
    }
    for (key, value) in object.iter_mut() {
        match key.as_str() {
            "properties" => value
                .as_object_mut()
                .into_iter()
                .flatten()
                .for_each(|(_, s)| strict(s)),
            "items" | "additionalProperties" => strict(value),
            "anyOf" | "allOf" | "oneOf" => {
                value.as_array_mut().into_iter().flatten().for_each(strict)
            }
            _ => {}
        }
    }
}

fn errors(schema: &Value, instance: &Value) -> Vec<String> {
    let validator = jsonschema::options()
        .with_draft(jsonschema::Draft::Draft202012)
        .build(schema)
        .expect("a CRD schema");
    validator
        .iter_errors(instance)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect()
}

#[test]
fn the_manifests_are_valid_against_spinkubes_crds() {
    let (Some(apps), Some(executors)) = (
        crd_schema("core.spinkube.dev_spinapps.yaml"),
        crd_schema("core.spinkube.dev_spinappexecutors.yaml"),
    ) else {
        testhost::skips::missing("no ../shared/spinkube (SpinKube's CRDs) beside the checkout");
        return;
    };
    let app = spin_app();
    assert_eq!(errors(&apps, &app), Vec::<String>::new(), "spinapp.yaml");
    let executor = load(&manifests().join("executor.yaml"));
    assert_eq!(
        errors(&executors, &executor),
        Vec::<String>::new(),
        "executor.yaml"
    );
    assert_eq!(app["spec"]["executor"], executor["metadata"]["name"]);
    // Strict: a misspelt field is caught, not dropped.
    let mut misspelt = app.clone();
    misspelt["spec"]["replica"] = json!(2);
    assert!(
        !errors(&apps, &misspelt).is_empty(),
        "the validation catches nothing"
    );
}

/// Secrets, variables and replicas agree with secret.yaml and spin.toml.
#[test]
fn the_manifests_agree_with_each_other_and_the_app() {
    let app = spin_app();
    let secret = secret();
    let refs = secret_refs(&app);
    for (place, name, key) in &refs {
        assert_eq!(name, &secret.name, "{place}");
        assert!(
            secret.values.contains_key(key),
            "{place}: secret.yaml has no {key}"
        );
    }
    for key in secret.values.keys() {
        assert!(
            refs.iter().any(|r| &r.2 == key),
            "secret.yaml's {key} is not used"
        );
    }
    let spin_toml: toml::Table =
        toml::from_str(&std::fs::read_to_string(workspace().join("spin.toml")).unwrap()).unwrap();
    for variable in app["spec"]["variables"].as_array().unwrap() {
        let name = variable["name"].as_str().unwrap();
        assert!(
            spin_toml["variables"].get(name).is_some(),
            "{name} is no variable of spin.toml"
        );
    }
    assert!(app["spec"]["replicas"].as_i64().unwrap() >= 2, "a fleet");
    // What the operator renders names the secret's servers, as both runtimes read it.
    let config = RuntimeConfig::parse(&render(&app, &secret), Path::new("/")).unwrap();
    assert_eq!(
        config.database,
        Some(Database::Libsql {
            url: secret.values["libsql-url"].clone(),
            token: secret.values["libsql-token"].clone(),
        })
    );
    assert_eq!(
        config.key_value_stores.get("default"),
        Some(&KeyValueStore::Redis {
            url: secret.values["redis-url"].clone()
        })
    );
}

/// The renderer renders what the operator's own test expects of it, byte for byte
/// (`internal/controller/spinapp_controller_test.go`, a Redis store given by value).
#[test]
fn the_runtime_config_is_rendered_as_the_operator_renders_it() {
    let app = json!({"spec": {"runtimeConfig": {"keyValueStores": [{
        "name": "default", "type": "redis",
        "options": [{"name": "url", "value": "redis://localhost:9000"}]}]}}});
    let none = Secret {
        name: String::new(),
        values: BTreeMap::new(),
    };
    assert_eq!(
        render(&app, &none),
        "[[config_provider]]\ntype = 'env'\nprefix = 'SPIN_VARIABLE_'\n\n[key_value_store]\n\
         [key_value_store.default]\ntype = 'redis'\nurl = 'redis://localhost:9000'\n"
    );
}

/// The probes' paths answer a client that has no credentials, with authentication on as the
/// SpinApp sets it, while the API itself asks for them.
#[test]
fn the_probes_answer_without_credentials() {
    let app = spin_app();
    let secret = secret();
    let s = Server::start_with(|mut c| {
        c = c.with_remote_client();
        for v in app["spec"]["variables"].as_array().unwrap() {
            let value = match v["value"].as_str() {
                Some(value) => value.to_string(),
                None => {
                    secret.values[v["valueFrom"]["secretKeyRef"]["key"].as_str().unwrap()].clone()
                }
            };
            c = c.with_variable(v["name"].as_str().unwrap(), &value);
        }
        c
    });
    for probe in ["liveness", "readiness"] {
        let path = app["spec"]["checks"][probe]["httpGet"]["path"]
            .as_str()
            .unwrap();
        s.get(path).expect(200);
    }
    s.get("/1.0/users/").expect(401);
}
