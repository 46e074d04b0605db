//! Cognito access-token verification and the client-credentials token client.
