//! FIRE entity schemas (JSON Schema draft-04/06/07) read from a local directory.
//!
//! `$ref`s are absolute GitHub URLs in FIRE; they are never fetched: the file name (the last
//! path segment before `#`) is read from the same directory and the pointer names a top-level
//! key of it. `allOf` inherits another entity's properties after the entity's own. Every
//! keyword the loader meets must be one it interprets; anything else is an error naming the
//! file and the JSON pointer, never a silent skip.

use std::path::{Path, PathBuf};

use super::json::Json as Value;
use sha2::{Digest, Sha256};

use crate::{Error, Result};

/// The JSON type of a property (FIRE never uses type unions).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    String,
    /// `string` with `format: date-time` (every FIRE date).
    DateTime,
    /// 64-bit: FIRE money is integer minor units.
    Integer,
    Number,
    Boolean,
    Object,
    Array,
}

/// One property of an entity, or of a nested object.
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    pub name: String,
    pub kind: Kind,
    /// In the enclosing object's `required` (or in every `oneOf` alternative's).
    pub required: bool,
    pub description: Option<String>,
    pub enumeration: Option<Vec<String>>,
    pub minimum: Option<f64>,
    pub maximum: Option<f64>,
    pub min_length: Option<u64>,
    pub max_length: Option<u64>,
    pub min_items: Option<u64>,
    pub max_items: Option<u64>,
    pub pattern: Option<String>,
    /// `monetary: true`: an amount in minor units.
    pub monetary: bool,
    /// Properties of an object (checked, with paths).
    pub fields: Vec<Field>,
    /// The element of an array (never checked: FIRE rules are per row).
    pub items: Option<Box<Field>>,
}

/// An entity: its columns and the rules that span columns.
#[derive(Debug, Clone, PartialEq)]
pub struct Entity {
    pub name: String,
    pub fields: Vec<Field>,
    /// `oneOf` of `required` lists: exactly one of these columns is present.
    pub exactly_one_of: Vec<String>,
    /// `dependencies`: when the column is present, these must be too.
    pub dependencies: Vec<(String, Vec<String>)>,
    /// SHA-256 of the files read, in the order read.
    pub digest: String,
}

/// A directory of FIRE schema files.
#[derive(Debug, Clone)]
pub struct SchemaDir {
    path: PathBuf,
}

const DRAFTS: [&str; 3] = [
    "http://json-schema.org/draft-07/schema#",
    "http://json-schema.org/draft-06/schema#",
    "http://json-schema.org/draft-04/schema#",
];

/// Keywords read on a property; `uniqueItems` is read and not derived (rules are per row and
/// array elements are never checked).
const PROPERTY_KEYWORDS: [&str; 17] = [
    "description",
    "type",
    "format",
    "enum",
    "minimum",
    "maximum",
    "minLength",
    "maxLength",
    "minItems",
    "maxItems",
    "pattern",
    "items",
    "properties",
    "required",
    "$ref",
    "monetary",
    "uniqueItems",
];

const ENTITY_KEYWORDS: [&str; 9] = [
    "$schema",
    "title",
    "description",
    "type",
    "properties",
    "required",
    "additionalProperties",
    "allOf",
    "dependencies",
];

/// Where a problem is: a file and a JSON pointer in it.
fn at(file: &str, pointer: &str, message: impl std::fmt::Display) -> Error {
    Error::invalid(format!("FIRE schema {file}#{pointer}: {message}"))
}

impl SchemaDir {
    pub fn new(path: impl Into<PathBuf>) -> Self {
        SchemaDir { path: path.into() }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The entities of the directory: every file with an object schema, by name.
    pub fn entity_names(&self) -> Result<Vec<String>> {
        let mut names: Vec<String> = std::fs::read_dir(&self.path)
            .map_err(|e| {
                Error::invalid(format!(
                    "cannot read FIRE schemas at {}: {e}",
                    self.path.display()
                ))
            })?
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .filter_map(|n| n.strip_suffix(".json").map(str::to_string))
            .filter(|n| n != "common")
            .collect();
        names.sort();
        Ok(names)
    }

    fn read(&self, file: &str, hasher: &mut Sha256) -> Result<Value> {
        if file.contains(['/', '\\']) || file.starts_with('.') {
            return Err(at(file, "", "not a file name of the schema directory"));
        }
        let path = self.path.join(file);
        let bytes = std::fs::read(&path).map_err(|e| {
            Error::invalid(format!("cannot read FIRE schema {}: {e}", path.display()))
        })?;
        hasher.update(&bytes);
        serde_json::from_slice(&bytes).map_err(|e| at(file, "", format!("not JSON: {e}")))
    }

    /// Loads entity `name` (`<name>.json`).
    pub fn entity(&self, name: &str) -> Result<Entity> {
        let mut hasher = Sha256::new();
        let file = format!("{name}.json");
        let document = self.read(&file, &mut hasher)?;
        let mut loader = Loader {
            dir: self,
            hasher: &mut hasher,
        };
        let (fields, exactly_one_of, dependencies) = loader.entity(&file, &document)?;
        Ok(Entity {
            name: name.to_string(),
            fields,
            exactly_one_of,
            dependencies,
            digest: hex::encode(hasher.finalize()),
        })
    }
}

struct Loader<'a> {
    dir: &'a SchemaDir,
    hasher: &'a mut Sha256,
}

type EntityParts = (Vec<Field>, Vec<String>, Vec<(String, Vec<String>)>);

impl Loader<'_> {
    fn entity(&mut self, file: &str, document: &Value) -> Result<EntityParts> {
        let object = document
            .as_object()
            .ok_or_else(|| at(file, "", "not a JSON object"))?;
        for key in object.keys() {
            if !ENTITY_KEYWORDS.contains(&key.as_str()) && key != "oneOf" {
                return Err(at(file, &format!("/{key}"), "unsupported keyword"));
            }
        }
        if let Some(draft) = object.get("$schema")
            && !DRAFTS.iter().any(|d| draft.as_str() == Some(d))
        {
            return Err(at(file, "/$schema", format!("unsupported draft {draft}")));
        }
        if object.get("type").and_then(Value::as_str) != Some("object") {
            return Err(at(file, "/type", "an entity schema must be of type object"));
        }
        let mut required = string_list(file, "/required", object.get("required"))?;
        let mut exactly_one_of = Vec::new();
        if let Some(alternatives) = object.get("oneOf") {
            let lists = alternatives
                .as_array()
                .ok_or_else(|| at(file, "/oneOf", "not an array"))?
                .iter()
                .enumerate()
                .map(|(i, alt)| {
                    let pointer = format!("/oneOf/{i}");
                    match alt.as_object() {
                        Some(alt) if alt.keys().all(|k| k == "required") => {
                            string_list(file, &format!("{pointer}/required"), alt.get("required"))
                        }
                        _ => Err(at(
                            file,
                            &pointer,
                            "only alternatives of required lists are supported",
                        )),
                    }
                })
                .collect::<Result<Vec<_>>>()?;
            // Columns every alternative requires are required; the others, exactly one.
            let all: Vec<String> = lists
                .first()
                .into_iter()
                .flatten()
                .filter(|c| lists.iter().all(|l| l.contains(c)))
                .cloned()
                .collect();
            exactly_one_of = lists
                .iter()
                .flatten()
                .filter(|c| !all.contains(c))
                .cloned()
                .collect();
            required.extend(all);
        }
        let mut fields = self.properties(file, "", object.get("properties"), &required)?;
        for (i, parent) in object
            .get("allOf")
            .map(|a| {
                a.as_array()
                    .ok_or_else(|| at(file, "/allOf", "not an array"))
            })
            .transpose()?
            .into_iter()
            .flatten()
            .enumerate()
        {
            let pointer = format!("/allOf/{i}/$ref");
            let reference = parent
                .get("$ref")
                .and_then(Value::as_str)
                .ok_or_else(|| at(file, &pointer, "allOf entries must be $ref"))?;
            let (parent_file, key) = split_ref(reference);
            if key.is_some() {
                return Err(at(file, &pointer, "allOf must name a whole entity file"));
            }
            let parent_document = self.dir.read(&parent_file, self.hasher)?;
            let (inherited, _, _) = self.entity(&parent_file, &parent_document)?;
            // The entity's own definition of a column wins over the inherited one.
            for field in inherited {
                if !fields.iter().any(|f| f.name == field.name) {
                    fields.push(field);
                }
            }
        }
        let mut dependencies = Vec::new();
        if let Some(map) = object.get("dependencies") {
            let map = map
                .as_object()
                .ok_or_else(|| at(file, "/dependencies", "not an object"))?;
            for (column, needs) in map.iter() {
                let pointer = format!("/dependencies/{column}");
                dependencies.push((column.clone(), string_list(file, &pointer, Some(needs))?));
            }
        }
        Ok((fields, exactly_one_of, dependencies))
    }

    fn properties(
        &mut self,
        file: &str,
        pointer: &str,
        properties: Option<&Value>,
        required: &[String],
    ) -> Result<Vec<Field>> {
        let Some(properties) = properties else {
            return Ok(Vec::new());
        };
        let map = properties
            .as_object()
            .ok_or_else(|| at(file, &format!("{pointer}/properties"), "not an object"))?;
        map.iter()
            .map(|(name, definition)| {
                let pointer = format!("{pointer}/properties/{name}");
                let mut field = self.property(file, &pointer, name, definition)?;
                field.required = required.contains(name);
                Ok(field)
            })
            .collect()
    }

    /// A property; a `$ref` is replaced by its definition, the referencing description first.
    fn property(
        &mut self,
        file: &str,
        pointer: &str,
        name: &str,
        definition: &Value,
    ) -> Result<Field> {
        let object = definition
            .as_object()
            .ok_or_else(|| at(file, pointer, "not an object"))?;
        if let Some(reference) = object.get("$ref") {
            let reference = reference
                .as_str()
                .ok_or_else(|| at(file, &format!("{pointer}/$ref"), "not a string"))?;
            let (ref_file, key) = split_ref(reference);
            let key = key.ok_or_else(|| {
                at(
                    file,
                    &format!("{pointer}/$ref"),
                    "a property $ref must point into a file",
                )
            })?;
            let document = self.dir.read(&ref_file, self.hasher)?;
            let target = document
                .get(&key)
                .ok_or_else(|| at(&ref_file, &format!("/{key}"), "no such top-level key"))?;
            let mut field = self.property(&ref_file, &format!("/{key}"), name, target)?;
            if let Some(description) = object.get("description").and_then(Value::as_str) {
                field.description = Some(description.to_string());
            }
            return Ok(field);
        }
        for key in object.keys() {
            if !PROPERTY_KEYWORDS.contains(&key.as_str()) {
                return Err(at(file, &format!("{pointer}/{key}"), "unsupported keyword"));
            }
        }
        let text = |key: &str| object.get(key).and_then(Value::as_str).map(str::to_string);
        let number = |key: &str| -> Result<Option<f64>> {
            object
                .get(key)
                .map(|v| {
                    v.as_f64()
                        .ok_or_else(|| at(file, &format!("{pointer}/{key}"), "not a number"))
                })
                .transpose()
        };
        let count = |key: &str| -> Result<Option<u64>> {
            object
                .get(key)
                .map(|v| {
                    v.as_u64().ok_or_else(|| {
                        at(
                            file,
                            &format!("{pointer}/{key}"),
                            "not a non-negative integer",
                        )
                    })
                })
                .transpose()
        };
        let kind = match (text("type").as_deref(), text("format").as_deref()) {
            (Some("string"), Some("date-time")) => Kind::DateTime,
            (Some("string"), _) => Kind::String,
            (Some("integer"), _) => Kind::Integer,
            (Some("number"), _) => Kind::Number,
            (Some("boolean"), _) => Kind::Boolean,
            (Some("object"), _) => Kind::Object,
            (Some("array"), _) => Kind::Array,
            (other, _) => {
                return Err(at(
                    file,
                    &format!("{pointer}/type"),
                    format!("unsupported type {other:?}"),
                ));
            }
        };
        // Each keyword only where it means something: a bound on a string is a mistake.
        let fits: &[&str] = match kind {
            Kind::String | Kind::DateTime => &["enum", "minLength", "maxLength", "pattern"],
            Kind::Integer | Kind::Number => &["minimum", "maximum"],
            Kind::Array => &["minItems", "maxItems", "items", "uniqueItems"],
            Kind::Object => &["properties", "required"],
            Kind::Boolean => &[],
        };
        const ANY: [&str; 4] = ["description", "type", "format", "monetary"];
        if let Some(key) = object
            .keys()
            .find(|k| !ANY.contains(&k.as_str()) && !fits.contains(&k.as_str()))
        {
            return Err(at(
                file,
                &format!("{pointer}/{key}"),
                format!("{key} does not apply to a property of type {kind:?}"),
            ));
        }
        let enumeration = object
            .get("enum")
            .map(|e| string_list(file, &format!("{pointer}/enum"), Some(e)))
            .transpose()?;
        let required = string_list(file, &format!("{pointer}/required"), object.get("required"))?;
        let fields = self.properties(file, pointer, object.get("properties"), &required)?;
        let items = object
            .get("items")
            .map(|items| {
                let pointer = format!("{pointer}/items");
                self.property(file, &pointer, "element", items)
                    .map(Box::new)
            })
            .transpose()?;
        Ok(Field {
            name: name.to_string(),
            kind,
            required: false,
            description: text("description"),
            enumeration,
            minimum: number("minimum")?,
            maximum: number("maximum")?,
            min_length: count("minLength")?,
            max_length: count("maxLength")?,
            min_items: count("minItems")?,
            max_items: count("maxItems")?,
            pattern: text("pattern"),
            monetary: object.get("monetary").and_then(Value::as_bool) == Some(true),
            fields,
            items,
        })
    }
}

/// `https://…/schemas/common.json#/currency_code` → (`common.json`, `Some("currency_code")`).
fn split_ref(reference: &str) -> (String, Option<String>) {
    let (location, fragment) = match reference.split_once('#') {
        Some((location, fragment)) => (location, Some(fragment)),
        None => (reference, None),
    };
    let file = location.rsplit('/').next().unwrap_or(location).to_string();
    let key = fragment
        .map(|f| f.rsplit('/').next().unwrap_or(f).to_string())
        .filter(|k| !k.is_empty());
    (file, key)
}

fn string_list(file: &str, pointer: &str, value: Option<&Value>) -> Result<Vec<String>> {
    let Some(value) = value else {
        return Ok(Vec::new());
    };
    value
        .as_array()
        .and_then(|items| {
            items
                .iter()
                .map(|v| v.as_str().map(str::to_string))
                .collect::<Option<Vec<_>>>()
        })
        .ok_or_else(|| at(file, pointer, "not a list of strings"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_name_a_file_and_a_top_level_key() {
        assert_eq!(
            split_ref(
                "https://raw.githubusercontent.com/SuadeLabs/fire/master/schemas/common.json#/currency_code"
            ),
            ("common.json".into(), Some("currency_code".into()))
        );
        assert_eq!(
            split_ref(
                "https://raw.githubusercontent.com/SuadeLabs/fire/master/schemas/entity.json"
            ),
            ("entity.json".into(), None)
        );
    }

    fn dir_with(files: &[(&str, &str)]) -> (tempfile::TempDir, SchemaDir) {
        let dir = tempfile::tempdir().unwrap();
        for (name, text) in files {
            std::fs::write(dir.path().join(name), text).unwrap();
        }
        let schemas = SchemaDir::new(dir.path());
        (dir, schemas)
    }

    #[test]
    fn what_the_loader_cannot_interpret_is_an_error_naming_file_and_pointer() {
        let (_dir, schemas) = dir_with(&[(
            "thing.json",
            r#"{"type": "object", "properties": {"a": {"type": "string", "not": {}}}}"#,
        )]);
        let e = schemas.entity("thing").unwrap_err();
        assert!(
            e.message().contains("thing.json#/properties/a/not"),
            "{}",
            e.message()
        );
        let (_dir, schemas) = dir_with(&[
            (
                "thing.json",
                r#"{"type": "object", "properties": {"a": {"$ref": "https://x/y/common.json#/nope"}}}"#,
            ),
            ("common.json", "{}"),
        ]);
        let e = schemas.entity("thing").unwrap_err();
        assert!(e.message().contains("common.json#/nope"), "{}", e.message());
    }

    #[test]
    fn one_of_required_lists_and_dependencies_are_read() {
        let (_dir, schemas) = dir_with(&[(
            "adj.json",
            r#"{"type": "object", "properties": {"id": {"type": "string"},
                "amount": {"type": "integer"}, "text": {"type": "string"}, "ccy": {"type": "string"}},
               "oneOf": [{"required": ["id", "amount"]}, {"required": ["id", "text"]}],
               "dependencies": {"amount": ["ccy"]}}"#,
        )]);
        let entity = schemas.entity("adj").unwrap();
        assert!(
            entity
                .fields
                .iter()
                .find(|f| f.name == "id")
                .unwrap()
                .required
        );
        assert!(
            !entity
                .fields
                .iter()
                .find(|f| f.name == "amount")
                .unwrap()
                .required
        );
        assert_eq!(entity.exactly_one_of, ["amount", "text"]);
        assert_eq!(
            entity.dependencies,
            [("amount".to_string(), vec!["ccy".to_string()])]
        );
    }
}
