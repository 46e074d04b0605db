//! The cognito-client-operator: CognitoClient types and reconciliation.
