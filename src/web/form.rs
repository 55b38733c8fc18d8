//! Field errors for forms re-rendered with their messages beside the fields.

use std::collections::BTreeMap;

use crate::error::FieldErrors;

#[derive(Clone, Debug, Default)]
pub struct FormErrors {
    fields: BTreeMap<String, Vec<String>>,
}

impl FormErrors {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn add(&mut self, field: &str, message: impl Into<String>) {
        self.fields
            .entry(field.to_string())
            .or_default()
            .push(message.into());
    }

    /// Records the error of a parse, returning the value if it parsed.
    pub fn check<T>(&mut self, field: &str, parsed: Result<T, &'static str>) -> Option<T> {
        match parsed {
            Ok(value) => Some(value),
            Err(message) => {
                self.add(field, message);
                None
            }
        }
    }

    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    pub fn has(&self, field: &str) -> bool {
        self.fields.contains_key(field)
    }

    pub fn first(&self, field: &str) -> Option<&str> {
        self.fields
            .get(field)
            .and_then(|m| m.first())
            .map(String::as_str)
    }

    /// Every message for `field`, when there are any.
    pub fn all(&self, field: &str) -> Option<&[String]> {
        self.fields.get(field).map(Vec::as_slice)
    }

    /// A message not tied to one field (shown above the form).
    pub fn form_error(&self) -> Option<&str> {
        self.first("_form")
    }
}

impl From<FieldErrors> for FormErrors {
    fn from(errors: FieldErrors) -> Self {
        let mut out = Self::new();
        for (field, messages) in errors {
            for message in messages {
                out.add(field, message);
            }
        }
        out
    }
}
