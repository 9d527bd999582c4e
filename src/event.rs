//! PURE. AWS Config's invocation envelope decoded into what the rule acts on.
//!
//! `ConfigEvent` (from `aws_lambda_events`) carries `invokingEvent` and `ruleParameters` as JSON
//! *strings*; this module decodes them once, with errors that name the field and what was
//! expected, and never panics on what Config (or a person testing by hand) sends.

use crate::error::Error;
use crate::model::Tags;
use aws_lambda_events::event::config::ConfigEvent;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::Value;

/// `resultToken` value that turns on `PutEvaluations` test mode.
pub const TEST_MODE_TOKEN: &str = "TESTMODE";

/// A configuration item, from a change notification or from `GetResourceConfigHistory`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigItem {
    /// `resourceType`, e.g. `AWS::DynamoDB::Table`.
    pub resource_type: String,
    /// `resourceId`: the table name for tables.
    pub resource_id: String,
    /// `ARN`.
    pub arn: Option<String>,
    /// `awsRegion`.
    pub region: String,
    /// `awsAccountId`.
    pub account: String,
    /// `configurationItemStatus`: OK, ResourceDiscovered, ResourceDeleted, …
    pub status: String,
    /// `configurationItemCaptureTime`: the evaluation's `OrderingTimestamp`.
    pub capture_time: DateTime<Utc>,
    /// `configuration.tableStatus`, for tables.
    pub table_status: Option<String>,
    /// `tags`; `None` when the item carried no `tags` key at all.
    pub tags: Option<Tags>,
}

/// A summary of an item too large for the notification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemSummary {
    /// `resourceType`.
    pub resource_type: String,
    /// `resourceId`.
    pub resource_id: String,
    /// `awsRegion`.
    pub region: String,
    /// `awsAccountId`.
    pub account: String,
    /// `configurationItemStatus`.
    pub status: String,
    /// `configurationItemCaptureTime`: fetch the item as of this time.
    pub capture_time: DateTime<Utc>,
}

/// What Config asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Trigger {
    /// `ConfigurationItemChangeNotification`.
    Change(ConfigItem),
    /// `OversizedConfigurationItemChangeNotification`: the item must be fetched.
    Oversized(ItemSummary),
    /// `ScheduledNotification`.
    Scheduled {
        /// The account the notification is for.
        account: Option<String>,
        /// `notificationCreationTime`: the `OrderingTimestamp` of a periodic run.
        notification_time: DateTime<Utc>,
    },
}

/// A decoded invocation.
#[derive(Debug, Clone, PartialEq)]
pub struct Invocation {
    /// The trigger and its item.
    pub trigger: Trigger,
    /// `resultToken`, handed back with `PutEvaluations`.
    pub result_token: String,
    /// `eventLeftScope`.
    pub event_left_scope: bool,
    /// `accountId`: the account the rule evaluates.
    pub account_id: Option<String>,
    /// `executionRoleArn`.
    pub execution_role_arn: Option<String>,
    /// `configRuleName`: the rule's name in the evaluated account, for the periodic clean-up.
    pub config_rule_name: Option<String>,
    /// `configRuleArn`, which names the rule's Region.
    pub config_rule_arn: Option<String>,
    /// `ruleParameters`, decoded to a JSON object (not yet validated).
    pub rule_parameters: serde_json::Map<String, Value>,
}

impl Invocation {
    /// The rule's Region, from `configRuleArn` (`arn:aws:config:<Region>:<account>:config-rule/…`).
    pub fn rule_region(&self) -> Option<&str> {
        self.config_rule_arn
            .as_deref()?
            .split(':')
            .nth(3)
            .filter(|r| !r.is_empty())
    }

    /// The account the event evaluates: `accountId`, else the item's or notification's own.
    pub fn evaluated_account(&self) -> Option<&str> {
        self.account_id.as_deref().or(match &self.trigger {
            Trigger::Change(item) => Some(item.account.as_str()),
            Trigger::Oversized(s) => Some(s.account.as_str()),
            Trigger::Scheduled { account, .. } => account.as_deref(),
        })
    }

    /// `PutEvaluations` must run in test mode for the `TESTMODE` token.
    pub fn test_mode(&self) -> bool {
        self.result_token == TEST_MODE_TOKEN
    }
}

fn invalid(field: &str, expected: impl Into<String>) -> Error {
    Error::InvalidEvent {
        field: field.to_string(),
        expected: expected.into(),
        source: None,
    }
}

/// Config timestamps are ISO 8601 (`2016-02-17T01:36:34.043Z`).
fn timestamp(field: &str, v: Option<&Value>) -> Result<DateTime<Utc>, Error> {
    let s = v
        .and_then(Value::as_str)
        .ok_or_else(|| invalid(field, "an ISO 8601 timestamp string"))?;
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| invalid(field, format!("an ISO 8601 timestamp, got `{s}` ({e})")))
}

fn string(field: &str, v: Option<&Value>) -> Result<String, Error> {
    v.and_then(Value::as_str)
        .map(str::to_string)
        .ok_or_else(|| invalid(field, "a string"))
}

/// Config writes tags as a `{key: value}` map; anything else is refused rather than guessed.
fn tags(field: &str, v: Option<&Value>) -> Result<Option<Tags>, Error> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(m)) => m
            .iter()
            .map(|(k, v)| match v {
                Value::String(s) => Ok((k.clone(), s.clone())),
                _ => Err(invalid(&format!("{field}.{k}"), "a string tag value")),
            })
            .collect::<Result<Tags, _>>()
            .map(Some),
        Some(_) => Err(invalid(field, "a map of tag keys to values")),
    }
}

impl ConfigItem {
    /// The item's identity, status and time, as an oversized notification would give them.
    pub fn summary(&self) -> ItemSummary {
        ItemSummary {
            resource_type: self.resource_type.clone(),
            resource_id: self.resource_id.clone(),
            region: self.region.clone(),
            account: self.account.clone(),
            status: self.status.clone(),
            capture_time: self.capture_time,
        }
    }

    /// Reads a configuration item in the notification's shape.
    pub fn from_notification(item: &Value) -> Result<ConfigItem, Error> {
        let f = |name: &str| item.get(name);
        let table_status = match f("configuration") {
            Some(Value::Object(c)) => c
                .get("tableStatus")
                .and_then(Value::as_str)
                .map(str::to_string),
            // Some producers leave the configuration as a JSON string.
            Some(Value::String(s)) => serde_json::from_str::<Value>(s).ok().and_then(|c| {
                c.get("tableStatus")
                    .and_then(Value::as_str)
                    .map(str::to_string)
            }),
            _ => None,
        };
        Ok(ConfigItem {
            resource_type: string("configurationItem.resourceType", f("resourceType"))?,
            resource_id: string("configurationItem.resourceId", f("resourceId"))?,
            arn: f("ARN")
                .or(f("arn"))
                .and_then(Value::as_str)
                .map(str::to_string),
            region: string("configurationItem.awsRegion", f("awsRegion"))?,
            account: string("configurationItem.awsAccountId", f("awsAccountId"))?,
            status: string(
                "configurationItem.configurationItemStatus",
                f("configurationItemStatus"),
            )?,
            capture_time: timestamp(
                "configurationItem.configurationItemCaptureTime",
                f("configurationItemCaptureTime"),
            )?,
            table_status,
            tags: tags("configurationItem.tags", f("tags"))?,
        })
    }
}

/// The envelope fields we read from `invokingEvent`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct InvokingEvent {
    message_type: Option<String>,
    configuration_item: Option<Value>,
    configuration_item_summary: Option<Value>,
    notification_creation_time: Option<Value>,
    aws_account_id: Option<String>,
}

/// Decodes a Config event.
pub fn decode(event: &ConfigEvent) -> Result<Invocation, Error> {
    let raw = event
        .invoking_event
        .as_deref()
        .ok_or_else(|| invalid("invokingEvent", "a JSON string"))?;
    let inv: InvokingEvent = serde_json::from_str(raw).map_err(|e| Error::InvalidEvent {
        field: "invokingEvent".into(),
        expected: format!("a JSON object ({e})"),
        source: Some(e),
    })?;
    let result_token = event
        .result_token
        .clone()
        .filter(|t| !t.is_empty())
        .ok_or_else(|| invalid("resultToken", "a non-empty string"))?;
    let rule_parameters = match event.rule_parameters.as_deref().map(str::trim) {
        None | Some("") => serde_json::Map::new(),
        Some(raw) => match serde_json::from_str::<Value>(raw) {
            Ok(Value::Object(m)) => m,
            Ok(Value::Null) => serde_json::Map::new(),
            Ok(_) => return Err(invalid_params("ruleParameters", "a JSON object")),
            Err(e) => {
                return Err(Error::InvalidParameters {
                    name: "ruleParameters".into(),
                    expected: format!("a JSON object ({e})"),
                    source: Some(e),
                })
            }
        },
    };
    let message_type = inv
        .message_type
        .as_deref()
        .ok_or_else(|| invalid("invokingEvent.messageType", "a message type"))?;
    let trigger = match message_type {
        "ConfigurationItemChangeNotification" => {
            let item = inv
                .configuration_item
                .as_ref()
                .filter(|v| v.is_object())
                .ok_or_else(|| invalid("invokingEvent.configurationItem", "an object"))?;
            Trigger::Change(ConfigItem::from_notification(item)?)
        }
        "OversizedConfigurationItemChangeNotification" => {
            let s = inv
                .configuration_item_summary
                .as_ref()
                .filter(|v| v.is_object())
                .ok_or_else(|| invalid("invokingEvent.configurationItemSummary", "an object"))?;
            let f = |name: &str| s.get(name);
            Trigger::Oversized(ItemSummary {
                resource_type: string("configurationItemSummary.resourceType", f("resourceType"))?,
                resource_id: string("configurationItemSummary.resourceId", f("resourceId"))?,
                region: string("configurationItemSummary.awsRegion", f("awsRegion"))?,
                account: string("configurationItemSummary.awsAccountId", f("awsAccountId"))?,
                status: string("configurationItemSummary.configurationItemStatus", f("configurationItemStatus"))?,
                capture_time: timestamp(
                    "configurationItemSummary.configurationItemCaptureTime",
                    f("configurationItemCaptureTime"),
                )?,
            })
        }
        "ScheduledNotification" => Trigger::Scheduled {
            account: inv.aws_account_id.clone(),
            notification_time: timestamp(
                "invokingEvent.notificationCreationTime",
                inv.notification_creation_time.as_ref(),
            )?,
        },
        other => {
            return Err(invalid(
                "invokingEvent.messageType",
                format!(
                    "ConfigurationItemChangeNotification, OversizedConfigurationItemChangeNotification or ScheduledNotification, got `{other}`"
                ),
            ))
        }
    };
    Ok(Invocation {
        trigger,
        result_token,
        event_left_scope: event.event_left_scope,
        account_id: event.account_id.clone(),
        execution_role_arn: event.execution_role_arn.clone(),
        config_rule_name: event.config_rule_name.clone(),
        config_rule_arn: event.config_rule_arn.clone(),
        rule_parameters,
    })
}

fn invalid_params(name: &str, expected: impl Into<String>) -> Error {
    Error::InvalidParameters {
        name: name.to_string(),
        expected: expected.into(),
        source: None,
    }
}

/// Decodes the raw Lambda payload. `eventLeftScope` has no default in `ConfigEvent`; Config
/// always sends it, but a hand-written test event may not, so absent means `false`.
pub fn decode_payload(payload: Value) -> Result<Invocation, Error> {
    let mut payload = payload;
    match payload.as_object_mut() {
        Some(obj) => {
            obj.entry("eventLeftScope").or_insert(Value::Bool(false));
        }
        None => return Err(invalid("(event)", "a JSON object")),
    }
    let event: ConfigEvent = serde_json::from_value(payload).map_err(|e| Error::InvalidEvent {
        field: "(event)".into(),
        expected: format!("a Config rule event ({e})"),
        source: Some(e),
    })?;
    decode(&event)
}
