//! The committed OpenAPI document is what the server serves, and it documents errors properly.

use serde_json::Value;

use crate::helpers::*;

fn committed() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../openapi/openapi.json");
    let text =
        std::fs::read_to_string(path).expect("openapi/openapi.json exists (run `make openapi`)");
    serde_json::from_str(&text).expect("openapi/openapi.json is JSON")
}

#[tokio::test]
async fn the_committed_document_equals_the_served_one() {
    let app = spawn_app(Backend::Sqlite).await;
    let served: Value = app
        .client
        .request(reqwest::Method::GET, "api/openapi.json")
        .unwrap()
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        served == committed(),
        "openapi/openapi.json is stale: run `make openapi` and commit the result"
    );
    assert_eq!(served["openapi"], "3.1.0");
}

#[test]
fn every_error_response_is_problem_json_and_every_secured_operation_documents_401_and_403() {
    let doc = committed();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let responses = op["responses"].as_object().unwrap();
            for (code, response) in responses {
                // The readiness probe's 503 carries its own explanation, by design.
                let probe = path == "/readyz" && code == "503";
                if (code.starts_with('4') || code.starts_with('5')) && !probe {
                    let content =
                        &response["content"]["application/problem+json"]["schema"]["$ref"];
                    assert_eq!(
                        content, "#/components/schemas/Problem",
                        "{method} {path} {code}"
                    );
                }
            }
            if op.get("security").is_some() {
                for code in ["401", "403", "500"] {
                    assert!(responses.contains_key(code), "{method} {path} lacks {code}");
                }
            }
            assert!(
                op.get("summary").is_some() || op.get("description").is_some(),
                "{method} {path} is undescribed"
            );
        }
    }
}

#[tokio::test]
async fn the_docs_ui_is_served_from_the_binary() {
    let app = spawn_app(Backend::Sqlite).await;
    let resp = app
        .client
        .request(reqwest::Method::GET, "api/docs/")
        .unwrap()
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert!(resp.text().await.unwrap().contains("swagger"));
    let css = app
        .client
        .request(reqwest::Method::GET, "api/docs/swagger-ui.css")
        .unwrap()
        .send()
        .await
        .unwrap();
    assert_eq!(css.status(), 200);
}
