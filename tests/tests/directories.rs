//! The directory functions end to end, in both of Clerk's spellings: `/directories` and the older
//! `/scim_directories`, which take the same requests under other names. For each function, the
//! request it sends, as the emulator received it, and the key fields of the answer, which the
//! emulator mocks from Clerk's OpenAPI spec (it keeps no directories).

use crate::mock_harness;

use kosmo_tests::{bare, get, with_body};
use mock_harness::{Mocked, page, string};
use serde_json::{Map, Value, json};

/// One spelling of the directory API: its names for functions, paths, objects and fields.
struct Spelling {
    /// `get_<directory>`, and the directory object's `object`.
    directory: &'static str,
    /// `list_<directories>`, and the path's first segment.
    directories: &'static str,
    /// The directory's ID, as a parameter and in a mapping.
    directory_id: &'static str,
    /// `create_<mapping>`, and the mapping object's `object`.
    mapping: &'static str,
    /// The directory group's ID in a mapping.
    group_id: &'static str,
}

const SPELLINGS: [Spelling; 2] = [
    Spelling {
        directory: "directory",
        directories: "directories",
        directory_id: "directory_id",
        mapping: "directory_group_role_mapping",
        group_id: "directory_group_id",
    },
    Spelling {
        directory: "scim_directory",
        directories: "scim_directories",
        directory_id: "scim_directory_id",
        mapping: "scim_group_role_mapping",
        group_id: "scim_group_id",
    },
];

impl Spelling {
    fn path(&self, rest: &str) -> String {
        format!("/v1/{}/dir_2abc123{rest}", self.directories)
    }

    /// Arguments naming the directory `dir_2abc123`, plus `more`.
    fn args(&self, more: Value) -> Value {
        let mut args = Map::from_iter([(self.directory_id.to_string(), json!("dir_2abc123"))]);
        if let Value::Object(more) = more {
            args.extend(more);
        }
        Value::Object(args)
    }

    /// The fields every directory carries.
    fn assert_directory(&self, directory: &Value) {
        assert_eq!(directory["object"], self.directory, "{directory}");
        string(directory, "id");
        string(directory, "endpoint_url");
        string(directory, "provider");
        assert!(directory["enabled"].is_boolean(), "{directory}");
        assert!(
            directory["group_role_mapping_enabled"].is_boolean(),
            "{directory}"
        );
        assert!(directory["attribute_mapping"].is_object(), "{directory}");
    }

    /// The fields every group role mapping carries.
    fn assert_mapping(&self, mapping: &Value) {
        assert_eq!(mapping["object"], self.mapping, "{mapping}");
        string(mapping, "id");
        string(mapping, self.directory_id);
        string(mapping, self.group_id);
        assert!(mapping["precedence"].is_i64(), "{mapping}");
    }
}

#[tokio::test]
async fn listing_directories_pages_with_limit_and_offset() {
    let Some(run) = Mocked::start().await else {
        return;
    };
    for api in &SPELLINGS {
        let answer = run
            .check(
                &format!("list_{}", api.directories),
                json!({"limit": 50, "offset": 0}),
                get(
                    &format!("/v1/{}", api.directories),
                    &[("limit", "50"), ("offset", "0")],
                ),
            )
            .await;
        for directory in page(&answer, api.directory) {
            api.assert_directory(directory);
        }
    }
}

#[tokio::test]
async fn creating_a_directory_sends_the_connection_and_initial_mappings() {
    let Some(run) = Mocked::start().await else {
        return;
    };
    for api in &SPELLINGS {
        let body = json!({
            "enterprise_connection_id": "ent_2abc123",
            "provider": "okta",
            "name": "Acme Okta users",
            "group_role_mappings": [{api.group_id: "00g1abcd", "role_id": "role_2abc123", "precedence": 1}],
        });
        let created = run
            .check(
                &format!("create_{}", api.directory),
                body.clone(),
                with_body("POST", &format!("/v1/{}", api.directories), body),
            )
            .await;
        api.assert_directory(&created);
        // Shown once, on creation.
        string(&created, "api_key");
    }
}

#[tokio::test]
async fn getting_a_directory_asks_for_it_by_id() {
    let Some(run) = Mocked::start().await else {
        return;
    };
    for api in &SPELLINGS {
        let directory = run
            .check(
                &format!("get_{}", api.directory),
                api.args(json!({})),
                get(&api.path(""), &[]),
            )
            .await;
        api.assert_directory(&directory);
        assert_eq!(directory["id"], "dir_2abc123");
    }
}

#[tokio::test]
async fn updating_a_directory_sends_null_to_remove_a_mapped_attribute() {
    let Some(run) = Mocked::start().await else {
        return;
    };
    let changes = json!({
        "attribute_mapping": {"first_name": "name.givenName", "last_name": null},
        "group_role_mapping_enabled": true,
    });
    for api in &SPELLINGS {
        let updated = run
            .check(
                &format!("update_{}", api.directory),
                api.args(changes.clone()),
                with_body("PATCH", &api.path(""), changes.clone()),
            )
            .await;
        api.assert_directory(&updated);
    }
}

#[tokio::test]
async fn deleting_a_directory_sends_a_bare_delete() {
    let Some(run) = Mocked::start().await else {
        return;
    };
    for api in &SPELLINGS {
        let deleted = run
            .check(
                &format!("delete_{}", api.directory),
                api.args(json!({})),
                bare("DELETE", &api.path("")),
            )
            .await;
        assert_eq!(deleted["deleted"], true, "{deleted}");
    }
}

#[tokio::test]
async fn rotating_a_directory_s_api_key_answers_with_the_new_key() {
    let Some(run) = Mocked::start().await else {
        return;
    };
    for api in &SPELLINGS {
        let directory = run
            .check(
                &format!("rotate_{}_api_key", api.directory),
                api.args(json!({})),
                bare("POST", &api.path("/rotate_api_key")),
            )
            .await;
        api.assert_directory(&directory);
        string(&directory, "api_key");
    }
}

#[tokio::test]
async fn listing_group_role_mappings_returns_every_mapping() {
    let Some(run) = Mocked::start().await else {
        return;
    };
    for api in &SPELLINGS {
        let answer = run
            .check(
                &format!("list_{}s", api.mapping),
                api.args(json!({})),
                get(&api.path("/group_role_mappings"), &[]),
            )
            .await;
        for mapping in page(&answer, api.mapping) {
            api.assert_mapping(mapping);
        }
    }
}

#[tokio::test]
async fn creating_a_group_role_mapping_sends_group_role_and_precedence() {
    let Some(run) = Mocked::start().await else {
        return;
    };
    for api in &SPELLINGS {
        let body = json!({api.group_id: "00g1abcd", "role_id": "role_2abc123", "precedence": 2});
        let mapping = run
            .check(
                &format!("create_{}", api.mapping),
                api.args(body.clone()),
                with_body("POST", &api.path("/group_role_mappings"), body),
            )
            .await;
        api.assert_mapping(&mapping);
    }
}

#[tokio::test]
async fn a_directory_group_role_mapping_also_takes_the_legacy_group_name() {
    let Some(run) = Mocked::start().await else {
        return;
    };
    let api = &SPELLINGS[0];
    let body = json!({"scim_group_id": "00g1abcd", "role_id": "role_2abc123"});
    let mapping = run
        .check(
            "create_directory_group_role_mapping",
            api.args(body.clone()),
            with_body("POST", &api.path("/group_role_mappings"), body),
        )
        .await;
    api.assert_mapping(&mapping);
}

#[tokio::test]
async fn replacing_group_role_mappings_puts_the_whole_list_in_order() {
    let Some(run) = Mocked::start().await else {
        return;
    };
    for api in &SPELLINGS {
        let mappings = json!([
            {api.group_id: "00g1abcd", "role_id": "role_2abc123"},
            {api.group_id: "00g2efgh", "role_id": "role_2def456"},
        ]);
        let answer = run
            .check(
                &format!("replace_{}s", api.mapping),
                api.args(json!({ "mappings": mappings })),
                with_body(
                    "PUT",
                    &api.path("/group_role_mappings"),
                    json!({ "mappings": mappings }),
                ),
            )
            .await;
        for mapping in page(&answer, api.mapping) {
            api.assert_mapping(mapping);
        }
    }
}

#[tokio::test]
async fn replacing_group_role_mappings_with_an_empty_list_clears_them() {
    let Some(run) = Mocked::start().await else {
        return;
    };
    for api in &SPELLINGS {
        run.check(
            &format!("replace_{}s", api.mapping),
            api.args(json!({"mappings": []})),
            with_body(
                "PUT",
                &api.path("/group_role_mappings"),
                json!({"mappings": []}),
            ),
        )
        .await;
    }
}

#[tokio::test]
async fn deleting_a_group_role_mapping_names_directory_and_mapping() {
    let Some(run) = Mocked::start().await else {
        return;
    };
    for api in &SPELLINGS {
        let deleted = run
            .check(
                &format!("delete_{}", api.mapping),
                api.args(json!({"mapping_id": "grm_2abc123"})),
                bare("DELETE", &api.path("/group_role_mappings/grm_2abc123")),
            )
            .await;
        assert_eq!(deleted["object"], api.mapping, "{deleted}");
        assert_eq!(deleted["deleted"], true, "{deleted}");
    }
}
