//! Products: what nonconformances, CAPAs and risks are about. The key prefix
//! names the product in record keys and reports; the software safety class
//! is IEC 62304's (4.3), which sets the rigour the product's software needs.

use super::user::FieldError;

pub const MAX_NAME: usize = 200;
pub const MAX_DESCRIPTION: usize = 2_000;

/// IEC 62304 4.3 software safety class.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SafetyClass {
    A,
    B,
    C,
}

impl SafetyClass {
    pub const ALL: [SafetyClass; 3] = [Self::A, Self::B, Self::C];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::A => "A",
            Self::B => "B",
            Self::C => "C",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::A => "Class A: no injury or damage to health is possible",
            Self::B => "Class B: non-serious injury is possible",
            Self::C => "Class C: death or serious injury is possible",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "A" => Some(Self::A),
            "B" => Some(Self::B),
            "C" => Some(Self::C),
            _ => None,
        }
    }
}

/// A stored product.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Product {
    pub id: i64,
    pub name: String,
    pub key_prefix: String,
    pub safety_class: SafetyClass,
    pub description: String,
    pub active: bool,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
    pub version: i64,
}

impl Product {
    /// The product as an audit entry records its fields.
    pub fn audit_fields(&self) -> serde_json::Value {
        serde_json::json!({
            "name": self.name,
            "key_prefix": self.key_prefix,
            "safety_class": self.safety_class.as_str(),
            "description": self.description,
            "active": self.active,
        })
    }
}

/// A product's fields as submitted, checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProductFields {
    pub name: String,
    pub key_prefix: String,
    pub safety_class: SafetyClass,
    pub description: String,
}

impl ProductFields {
    /// Checks every field and reports each problem.
    pub fn parse(
        name: &str,
        key_prefix: &str,
        safety_class: &str,
        description: &str,
    ) -> Result<Self, Vec<FieldError>> {
        let mut errors = Vec::new();
        let name = name.trim();
        if name.is_empty() {
            errors.push(FieldError::new("name", "Enter the product's name."));
        } else if name.chars().count() > MAX_NAME {
            errors.push(FieldError::new(
                "name",
                format!("The name can have at most {MAX_NAME} characters."),
            ));
        }
        let prefix = key_prefix.trim().to_ascii_uppercase();
        let prefix_ok = (2..=10).contains(&prefix.len())
            && prefix.starts_with(|c: char| c.is_ascii_uppercase())
            && prefix
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit());
        if !prefix_ok {
            errors.push(FieldError::new(
                "key_prefix",
                "The key prefix is 2 to 10 letters or digits, starting with a letter (for example PUMP2).",
            ));
        }
        let class = SafetyClass::parse(safety_class.trim());
        if class.is_none() {
            errors.push(FieldError::new(
                "safety_class",
                "Choose the software safety class: A, B or C (IEC 62304 4.3).",
            ));
        }
        let description = description.trim();
        if description.chars().count() > MAX_DESCRIPTION {
            errors.push(FieldError::new(
                "description",
                format!("The description can have at most {MAX_DESCRIPTION} characters."),
            ));
        }
        match class {
            Some(safety_class) if errors.is_empty() => Ok(Self {
                name: name.to_string(),
                key_prefix: prefix,
                safety_class,
                description: description.to_string(),
            }),
            _ => Err(errors),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn product_fields_are_checked_and_each_problem_named() {
        let ok = ProductFields::parse(" Infusion pump ", "pump2", "C", "");
        assert_eq!(
            ok.map(|p| (p.name, p.key_prefix)),
            Ok(("Infusion pump".into(), "PUMP2".into()))
        );
        let bad = ProductFields::parse("", "2PUMP", "D", &"x".repeat(MAX_DESCRIPTION + 1));
        let fields: Vec<&str> = bad
            .err()
            .unwrap_or_default()
            .iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(
            fields,
            ["name", "key_prefix", "safety_class", "description"]
        );
    }
}
