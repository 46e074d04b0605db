//! Development and tests only: the string constraints the Cognito API reference repeats across
//! its types (lengths, and the `[\w\s+=,.@-]` of friendly names).

use crate::pool::PoolError;

/// `InvalidParameterException` unless `value` has 1..=`max` characters.
pub(crate) fn check_length(field: &str, value: &str, max: usize) -> Result<(), PoolError> {
    let length = value.chars().count();
    if (1..=max).contains(&length) {
        Ok(())
    } else {
        Err(PoolError::invalid(
            field,
            format!("length {length} is outside 1..={max}"),
        ))
    }
}

/// A friendly name (`ClientName`, a resource server's `Name`): 1..=`max` of `[\w\s+=,.@-]`.
pub(crate) fn check_friendly_name(field: &str, value: &str, max: usize) -> Result<(), PoolError> {
    check_length(field, value, max)?;
    if value
        .chars()
        .all(|c| c.is_alphanumeric() || c == '_' || c.is_whitespace() || "+=,.@-".contains(c))
    {
        Ok(())
    } else {
        Err(PoolError::invalid(
            field,
            "may hold letters, digits, spaces and _+=,.@- only",
        ))
    }
}
