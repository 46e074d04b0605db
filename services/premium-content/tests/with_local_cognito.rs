//! premium-content trusting the dev issuer (local-cognito) exactly as it would trust Cognito:
//! only the issuer URL is configured (JWKS at its default place), tokens come from the
//! client-credentials grant at `/oauth2/token`.

mod support;

use std::net::TcpListener;
use std::sync::Arc;

use cognito_auth::trusted_issuers::IssuerJwks;
use local_cognito::issuer::{AppClient, Config as IssuerConfig, Issuer};
use support::send;

async fn client_credentials(token_url: &str, id: &str, secret: &str, scope: &str) -> String {
    let response = reqwest::Client::new()
        .post(token_url)
        .basic_auth(id, Some(secret))
        .form(&[("grant_type", "client_credentials"), ("scope", scope)])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    body["access_token"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn tokens_from_the_client_credentials_grant_are_honoured() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let issuer = Arc::new(
        Issuer::new(
            IssuerConfig::new(
                "us-east-1_LocalTest",
                vec![
                    AppClient::new("reader", "s3cret-r", ["premium_api/read"]),
                    AppClient::new(
                        "writer",
                        "s3cret-w",
                        ["premium_api/read", "premium_api/write"],
                    ),
                ],
            ),
            &base,
        )
        .unwrap(),
    );
    let issuer_server = local_cognito::serve(issuer.clone(), listener).unwrap();
    let issuer_handle = issuer_server.handle();
    tokio::spawn(issuer_server);

    let settings = premium_content::Settings {
        client_ids: vec!["reader".into(), "writer".into()],
        ..premium_content::Settings::new(vec![IssuerJwks::at_default_place(issuer.issuer_url())])
    };
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let premium = format!("http://{}", listener.local_addr().unwrap());
    let server = premium_content::start(settings, listener).await.unwrap();
    let premium_handle = server.handle();
    tokio::spawn(server);
    let client = reqwest::Client::new();
    for _ in 0..200 {
        if send(&client, "GET", &format!("{premium}/readyz"), None)
            .await
            .status
            == 200
        {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }

    let token_url = issuer.token_endpoint();
    let url = format!("{premium}/home/premium");
    let read = client_credentials(&token_url, "reader", "s3cret-r", "premium_api/read").await;
    let write = client_credentials(&token_url, "writer", "s3cret-w", "premium_api/write").await;

    let answer = send(&client, "GET", &url, Some(&format!("Bearer {read}"))).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    let answer = send(&client, "POST", &url, Some(&format!("Bearer {read}"))).await;
    assert_eq!(answer.status, 403);
    let answer = send(&client, "POST", &url, Some(&format!("Bearer {write}"))).await;
    assert_eq!(
        (answer.status, answer.body.as_str()),
        (200, r#"{"message":"Premium Content: OAuth Scope: Write"}"#)
    );
    let answer = send(&client, "GET", &url, Some(&format!("Bearer {write}"))).await;
    assert_eq!(answer.status, 403, "write token lacks the read scope");

    premium_handle.stop(true).await;
    issuer_handle.stop(true).await;
}
