//! `fermyon:spin/variables@2.0.0` as Spin's `factor-variables` serves it, with its environment
//! provider (`SPIN_VARIABLE_<NAME>`): the application's variables, a component's templates
//! over them, and Spin's rule for variable names.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use crate::manifest::Variable;
use crate::spin::fermyon::spin::variables;

/// The application's variables and where their values come from: a test's own settings
/// first, then `SPIN_VARIABLE_<NAME>` in the environment (Spin's environment provider),
/// then the manifest's `default`.
#[derive(Clone, Default)]
pub struct Variables {
    pub declared: Arc<BTreeMap<String, Option<String>>>,
    pub overrides: Arc<HashMap<String, String>>,
    pub from_environment: bool,
}

impl Variables {
    pub fn new(declared: &BTreeMap<String, Variable>) -> Self {
        Self {
            declared: Arc::new(
                declared
                    .iter()
                    .map(|(k, v)| (k.clone(), v.default.clone()))
                    .collect(),
            ),
            overrides: Arc::default(),
            from_environment: true,
        }
    }

    fn resolve(&self, name: &str) -> Result<String, variables::Error> {
        let Some(default) = self.declared.get(name) else {
            return Err(variables::Error::Other(format!(
                "invalid variable template: unknown variable {name:?}"
            )));
        };
        match self.provided(name) {
            Some(v) => Ok(v),
            None => default.clone().ok_or_else(|| {
                variables::Error::Provider(format!(
                    "no provider resolved required variable {name:?}"
                ))
            }),
        }
    }

    /// The environment provider's answer. Spin's (`crates/variables/src/env.rs`) looks each
    /// variable up inside `tokio::task::block_in_place`, so every variable a request reads
    /// makes its worker thread hand its other tasks to another thread. That costs time, and
    /// it changes which thread runs what next: after it, a response the guest hands over in
    /// pieces is written by another worker while the guest is still writing (under Spin, the
    /// 40 ms stall of split responses). The host does the same, to cost and race the same.
    fn provided(&self, name: &str) -> Option<String> {
        tokio::task::block_in_place(|| {
            if let Some(v) = self.overrides.get(name) {
                return Some(v.clone());
            }
            if self.from_environment {
                return std::env::var(format!("SPIN_VARIABLE_{}", name.to_ascii_uppercase())).ok();
            }
            None
        })
    }

    /// Expand a component's template: `"{{ name }}"` parts resolved, the rest kept.
    pub(crate) fn expand(&self, template: &str) -> Result<String, variables::Error> {
        let mut out = String::new();
        let mut rest = template;
        while let Some(start) = rest.find("{{") {
            out.push_str(&rest[..start]);
            let Some(end) = rest[start..].find("}}") else {
                return Err(variables::Error::Other(
                    "invalid variable template: unmatched '{{' in template".into(),
                ));
            };
            out.push_str(&self.resolve(rest[start + 2..start + end].trim())?);
            rest = &rest[start + end + 2..];
        }
        out.push_str(rest);
        Ok(out)
    }
}

/// What one component may ask for: its `[component.x.variables]`.
#[derive(Clone)]
pub struct ComponentVariables {
    pub component: String,
    pub templates: Arc<BTreeMap<String, String>>,
    pub app: Variables,
}

impl variables::Host for ComponentVariables {
    async fn get(&mut self, name: String) -> wasmtime::Result<Result<String, variables::Error>> {
        if let Err(reason) = validate_name(&name) {
            return Ok(Err(variables::Error::InvalidName(format!(
                "{name:?}: {reason}"
            ))));
        }
        let Some(template) = self.templates.get(&name) else {
            return Ok(Err(variables::Error::Undefined(format!(
                "no variable for {:?}.{name:?}",
                self.component
            ))));
        };
        Ok(self.app.expand(template))
    }
}

/// Spin's rule for variable names: lower-case letters, digits and single underscores,
/// starting with a letter and ending with a letter or digit.
pub fn validate_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("must not be empty".into());
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_'))
    {
        return Err(format!(
            "invalid character {c:?}. Variable names may contain only lower-case letters, numbers, and underscores."
        ));
    }
    if !name.as_bytes()[0].is_ascii_lowercase() {
        return Err("must start with a lowercase ASCII letter".into());
    }
    if !name.as_bytes()[name.len() - 1].is_ascii_alphanumeric() {
        return Err("must end with a lowercase ASCII letter or digit".into());
    }
    if name.contains("__") {
        return Err("must not contain multiple consecutive underscores".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, Option<&str>)]) -> Variables {
        Variables {
            declared: Arc::new(
                pairs
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.map(str::to_string)))
                    .collect(),
            ),
            overrides: Arc::new(HashMap::from([("set".to_string(), "override".to_string())])),
            from_environment: false,
        }
    }

    #[test]
    fn templates() {
        let v = vars(&[("a", Some("1")), ("set", Some("x")), ("req", None)]);
        assert_eq!(v.expand("{{ a }}").unwrap(), "1");
        assert_eq!(v.expand("x{{a}}y{{ set }}").unwrap(), "x1yoverride");
        assert!(matches!(
            v.expand("{{ req }}"),
            Err(variables::Error::Provider(_))
        ));
        assert!(matches!(v.expand("{{ a "), Err(variables::Error::Other(_))));
    }

    #[test]
    fn names() {
        for ok in ["a", "auth_accounts", "a1"] {
            assert!(validate_name(ok).is_ok(), "{ok}");
        }
        for bad in ["", "A", "1a", "_a", "a_", "a__b", "a-b"] {
            assert!(validate_name(bad).is_err(), "{bad}");
        }
    }
}
