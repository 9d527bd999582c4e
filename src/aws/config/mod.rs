//! AWS Config, by job: configuration items ([`items`]), the rule's evaluations put and recorded
//! ([`evaluations`]), and Config's own table inventory with whether it can be trusted
//! ([`inventory`]).

pub(crate) mod evaluations;
pub(crate) mod inventory;
pub(crate) mod items;

use aws_sdk_config::primitives::DateTime as SdkTime;
use chrono::{DateTime, TimeZone, Utc};

fn to_sdk_time(t: DateTime<Utc>) -> SdkTime {
    SdkTime::from_millis(t.timestamp_millis())
}

/// Config timestamps have millisecond precision; rounding to it undoes the float epoch seconds
/// of the JSON wire format.
fn from_sdk_time(t: &SdkTime) -> Option<DateTime<Utc>> {
    let millis = (t.as_secs_f64() * 1000.0).round() as i64;
    Utc.timestamp_millis_opt(millis).single()
}
