//! Prints the CognitoClient CustomResourceDefinition as YAML (committed as k8s/crd.yaml).

fn main() {
    print!("{}", cognito_client_operator::crd::crd_yaml());
}
