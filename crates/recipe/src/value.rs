//! Checking one TOML parameter value against its [`ParamInfo`] and turning it into a
//! [`SpecValue`].

use crate::registry::{allowed_text, kind_name};
use artefact_core::{ParamInfo, ParamKind, SpecValue};
use toml::Value;

/// Convert and validate; the error text says what is allowed.
pub(crate) fn to_spec(v: &Value, info: &ParamInfo) -> Result<SpecValue, String> {
    let unit = if info.unit.is_empty() {
        String::new()
    } else {
        format!(" {}", info.unit)
    };
    let expect = || {
        format!(
            "expected {} ({}{}), or a [lo, hi] range for numbers / a list for choices; got {}",
            kind_name(&info.kind),
            allowed_text(&info.kind),
            unit,
            describe(v)
        )
    };
    match (&info.kind, v) {
        (ParamKind::Bool, Value::Boolean(b)) => Ok(SpecValue::Bool(*b)),
        (ParamKind::Float { min, max }, _) => {
            let in_range = |x: f64| -> Result<f64, String> {
                if !x.is_finite() || x < *min || x > *max {
                    Err(format!("value {x} is out of range [{min}, {max}]{unit}"))
                } else {
                    Ok(x)
                }
            };
            match number(v) {
                Some(x) => Ok(SpecValue::Number(in_range(x)?)),
                None => {
                    let (lo, hi) = pair(v).ok_or_else(expect)?;
                    let (lo, hi) = (in_range(lo)?, in_range(hi)?);
                    if lo > hi {
                        return Err(format!("range [{lo}, {hi}] is reversed"));
                    }
                    Ok(SpecValue::Range([lo, hi]))
                }
            }
        }
        (ParamKind::Int { min, max }, _) => {
            let int = |x: &Value| -> Result<i64, String> {
                let i = x.as_integer().ok_or_else(expect)?;
                if i < *min || i > *max {
                    Err(format!("value {i} is out of range [{min}, {max}]{unit}"))
                } else {
                    Ok(i)
                }
            };
            match v {
                Value::Integer(_) => Ok(SpecValue::Number(int(v)? as f64)),
                Value::Array(a) if a.len() == 2 => {
                    let (lo, hi) = (int(&a[0])?, int(&a[1])?);
                    if lo > hi {
                        return Err(format!("range [{lo}, {hi}] is reversed"));
                    }
                    Ok(SpecValue::Range([lo as f64, hi as f64]))
                }
                _ => Err(expect()),
            }
        }
        (ParamKind::Choice { allowed }, Value::String(s)) => {
            if allowed.contains(&s.as_str()) {
                Ok(SpecValue::Text(s.clone()))
            } else {
                Err(format!(
                    "`{s}` is not allowed (allowed: {})",
                    allowed.join(", ")
                ))
            }
        }
        (ParamKind::Choice { allowed }, Value::Array(a)) if !a.is_empty() => {
            let mut out = Vec::with_capacity(a.len());
            for x in a {
                let s = x.as_str().ok_or_else(expect)?;
                if !allowed.contains(&s) {
                    return Err(format!(
                        "`{s}` is not allowed (allowed: {})",
                        allowed.join(", ")
                    ));
                }
                out.push(s.to_string());
            }
            Ok(SpecValue::Choice(out))
        }
        _ => Err(expect()),
    }
}

fn number(v: &Value) -> Option<f64> {
    match v {
        Value::Integer(i) => Some(*i as f64),
        Value::Float(f) => Some(*f),
        _ => None,
    }
}

fn pair(v: &Value) -> Option<(f64, f64)> {
    match v {
        Value::Array(a) if a.len() == 2 => Some((number(&a[0])?, number(&a[1])?)),
        _ => None,
    }
}

fn describe(v: &Value) -> String {
    match v {
        Value::String(s) => format!("the string \"{s}\""),
        Value::Integer(i) => format!("the integer {i}"),
        Value::Float(f) => format!("the number {f}"),
        Value::Boolean(b) => format!("{b}"),
        Value::Array(a) => format!("a list of {} items", a.len()),
        Value::Table(_) => "a table".into(),
        Value::Datetime(_) => "a date".into(),
    }
}
