//! CI check: the committed k8s/crd.yaml is exactly what the Rust types generate.

#[test]
fn committed_crd_matches_the_rust_types() {
    let path = test_support::repo_root().join("k8s/crd.yaml");
    let committed = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let generated = cognito_client_operator::crd::crd_yaml();
    assert!(
        committed == generated,
        "k8s/crd.yaml is stale: regenerate it with \
         `cargo run -q -p cognito-client-operator --bin crdgen > k8s/crd.yaml` and commit it"
    );
}

#[test]
fn crd_names_follow_the_contract() {
    use kube::CustomResourceExt;
    let crd = cognito_client_operator::cognito_client::CognitoClient::crd();
    assert_eq!(
        crd.metadata.name.as_deref(),
        Some("cognitoclients.cognito-m2m.dev")
    );
    assert_eq!(crd.spec.group, "cognito-m2m.dev");
    assert_eq!(crd.spec.scope, "Namespaced");
    assert_eq!(crd.spec.names.kind, "CognitoClient");
    assert_eq!(crd.spec.names.plural, "cognitoclients");
    assert_eq!(
        crd.spec.names.short_names.as_deref(),
        Some(&["cogc".to_owned()][..])
    );
    let version = &crd.spec.versions[0];
    assert_eq!(version.name, "v1alpha1");
    assert!(version.subresources.as_ref().unwrap().status.is_some());
    let columns: Vec<&str> = version
        .additional_printer_columns
        .iter()
        .flatten()
        .map(|c| c.name.as_str())
        .collect();
    assert_eq!(
        columns,
        [
            "Ready",
            "Secret",
            "Client",
            "Last Sync",
            "Rotating",
            "Next Rotation",
            "Age"
        ]
    );
}

#[test]
fn resource_server_crd_names_follow_the_contract() {
    use kube::CustomResourceExt;
    let crd = cognito_client_operator::resource_server::CognitoResourceServer::crd();
    assert_eq!(
        crd.metadata.name.as_deref(),
        Some("cognitoresourceservers.cognito-m2m.dev")
    );
    assert_eq!(crd.spec.scope, "Namespaced");
    assert_eq!(crd.spec.names.kind, "CognitoResourceServer");
    assert_eq!(
        crd.spec.names.short_names.as_deref(),
        Some(&["cogrs".to_owned()][..])
    );
    let version = &crd.spec.versions[0];
    assert_eq!(version.name, "v1alpha1");
    assert!(version.subresources.as_ref().unwrap().status.is_some());
    // `kubectl explain` reads the descriptions: every spec field has one.
    let schema = serde_json::to_value(&version.schema).unwrap();
    let spec = &schema["openAPIV3Schema"]["properties"]["spec"]["properties"];
    for field in [
        "region",
        "userPoolId",
        "identifier",
        "name",
        "scopes",
        "deletionPolicy",
    ] {
        assert!(
            spec[field]["description"]
                .as_str()
                .is_some_and(|d| !d.is_empty()),
            "spec.{field} has no description"
        );
    }
}
