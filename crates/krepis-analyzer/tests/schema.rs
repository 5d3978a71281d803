//! The JSON Schema shipped for editors must describe what the config reader accepts.

use std::path::Path;

use krepis_analyzer::config::{Config, ConfigSource};
use krepis_analyzer::rules::RuleId;
use serde_json::Value;

fn schema() -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../schemas/krepis.schema.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn parse(text: &str) -> Result<Config, String> {
    Config::parse(
        text,
        ConfigSource::Default,
        Path::new("/p"),
        Path::new("/p/krepis.json"),
    )
    .map_err(|e| e.to_string())
}

#[test]
fn schema_rule_names_are_the_rules() {
    let schema = schema();
    let names: Vec<&str> = schema["properties"]["rules"]["properties"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    let rules: Vec<&str> = RuleId::CONFIGURABLE.iter().map(|r| r.as_str()).collect();
    assert_eq!(names, rules);
    assert_eq!(schema["properties"]["rules"]["additionalProperties"], false);
}

#[test]
fn every_schema_option_default_is_accepted() {
    let schema = schema();
    for rule in RuleId::CONFIGURABLE {
        let entry = &schema["properties"]["rules"]["properties"][rule.as_str()];
        let options = entry["oneOf"]
            .as_array()
            .unwrap()
            .iter()
            .find_map(|v| v["items"].as_array().map(|items| items[1].clone()))
            .unwrap_or_else(|| panic!("{} has no options schema", rule.as_str()));
        for (name, option) in options["properties"].as_object().into_iter().flatten() {
            let default = option.get("default").cloned().unwrap_or(Value::Null);
            let config =
                serde_json::json!({ "rules": { rule.as_str(): ["warn", { name: default }] } });
            parse(&config.to_string()).unwrap_or_else(|e| panic!("{}.{name}: {e}", rule.as_str()));
        }
        let config = serde_json::json!({ "rules": { rule.as_str(): ["off"] } });
        parse(&config.to_string()).unwrap();
    }
}

#[test]
fn schema_top_level_keys_are_the_config_keys() {
    let schema = schema();
    for key in schema["properties"].as_object().unwrap().keys() {
        let value = match key.as_str() {
            "$schema" => serde_json::json!("x"),
            "layers" | "ignore" => serde_json::json!([]),
            "checkAmbientModules" => serde_json::json!(true),
            _ => serde_json::json!({}),
        };
        parse(&serde_json::json!({ key: value }).to_string())
            .unwrap_or_else(|e| panic!("{key}: {e}"));
    }
}
