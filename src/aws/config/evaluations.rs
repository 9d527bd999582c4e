//! The rule's evaluations: `PutEvaluations`, and what Config keeps of them
//! (`GetComplianceDetailsByConfigRule`, and `GetComplianceDetailsByResource` for a few).

use super::{from_sdk_time, to_sdk_time};
use crate::aws::error::classify;
use crate::coverage::Compliance;
use crate::error::{AwsErrorKind, Error};
use crate::model::{Evaluation, Recorded, RecordedResults};
use aws_sdk_config::types::ComplianceType;
use aws_sdk_config::Client;

/// One `PutEvaluations` call; returns the evaluations Config reported as failed.
///
/// Config returns the failed evaluations themselves; they are matched back to ours. One that
/// matches none of ours is reported as an error and never sent: the rule puts only verdicts it
/// decided.
pub(crate) async fn put_evaluations(
    client: &Client,
    role: Option<&str>,
    result_token: &str,
    test_mode: bool,
    evaluations: &[Evaluation],
) -> Result<Vec<Evaluation>, Error> {
    let sdk_evaluations = evaluations
        .iter()
        .map(|e| {
            aws_sdk_config::types::Evaluation::builder()
                .compliance_resource_type(&e.resource_type)
                .compliance_resource_id(&e.resource_id)
                .compliance_type(ComplianceType::from(e.compliance.as_str()))
                .annotation(&e.annotation)
                .ordering_timestamp(to_sdk_time(e.ordering_timestamp))
                .build()
                .map_err(|source| Error::Aws {
                    action: "config:PutEvaluations",
                    kind: AwsErrorKind::Service,
                    code: None,
                    message: format!("cannot build the evaluation of {}", e.resource_id),
                    role: role.map(str::to_string),
                    source: Box::new(source),
                })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let out = client
        .put_evaluations()
        .result_token(result_token)
        .test_mode(test_mode)
        .set_evaluations(Some(sdk_evaluations))
        .send()
        .await
        .map_err(|e| classify("config:PutEvaluations", role, e))?;
    let mut ours = Vec::new();
    let mut unknown = Vec::new();
    for f in out.failed_evaluations() {
        let found = evaluations.iter().find(|e| {
            e.resource_id == f.compliance_resource_id()
                && e.resource_type == f.compliance_resource_type()
        });
        match found {
            Some(e) => ours.push(e.clone()),
            None => unknown.push(format!(
                "{} {} ({}), which this invocation did not send",
                f.compliance_resource_type(),
                f.compliance_resource_id(),
                f.compliance_type().as_str()
            )),
        }
    }
    if !unknown.is_empty() {
        return Err(Error::FailedEvaluations {
            failed: unknown,
            attempts: 1,
        });
    }
    Ok(ours)
}

/// Every result Config keeps for the rule: COMPLIANT, NON_COMPLIANT and NOT_APPLICABLE (the
/// API's maximum of three types), 100 a page (the default is 10).
pub(crate) async fn recorded_results(
    client: &Client,
    role: Option<&str>,
    rule_name: &str,
) -> Result<RecordedResults, Error> {
    let mut out = RecordedResults::default();
    let mut token: Option<String> = None;
    loop {
        let page = client
            .get_compliance_details_by_config_rule()
            .config_rule_name(rule_name)
            .compliance_types(ComplianceType::Compliant)
            .compliance_types(ComplianceType::NonCompliant)
            .compliance_types(ComplianceType::NotApplicable)
            .limit(100)
            .set_next_token(token.take())
            .send()
            .await
            .map_err(|e| classify("config:GetComplianceDetailsByConfigRule", role, e))?;
        for r in page.evaluation_results() {
            match recorded(r) {
                Some(r) => out.results.push(r),
                None => out.unreadable += 1,
            }
        }
        match page.next_token() {
            Some(next) if !next.is_empty() => token = Some(next.to_string()),
            _ => return Ok(out),
        }
    }
}

/// The rule's results for a few resources, one `GetComplianceDetailsByResource` call each
/// (that call returns every rule's result for the resource; the others are left out).
pub(crate) async fn recorded_results_of(
    client: &Client,
    role: Option<&str>,
    rule_name: &str,
    resource_type: &str,
    ids: &[&str],
) -> Result<RecordedResults, Error> {
    let mut out = RecordedResults::default();
    for id in ids {
        let mut token: Option<String> = None;
        loop {
            let page = client
                .get_compliance_details_by_resource()
                .resource_type(resource_type)
                .resource_id(*id)
                .compliance_types(ComplianceType::Compliant)
                .compliance_types(ComplianceType::NonCompliant)
                .compliance_types(ComplianceType::NotApplicable)
                .set_next_token(token.take())
                .send()
                .await
                .map_err(|e| classify("config:GetComplianceDetailsByResource", role, e))?;
            for r in page.evaluation_results() {
                let rule = r
                    .evaluation_result_identifier()
                    .and_then(|i| i.evaluation_result_qualifier())
                    .and_then(|q| q.config_rule_name());
                if rule != Some(rule_name) {
                    continue;
                }
                match recorded(r) {
                    Some(r) => out.results.push(r),
                    None => out.unreadable += 1,
                }
            }
            match page.next_token() {
                Some(next) if !next.is_empty() => token = Some(next.to_string()),
                _ => break,
            }
        }
    }
    Ok(out)
}

/// One result, if it names its resource and compliance.
fn recorded(r: &aws_sdk_config::types::EvaluationResult) -> Option<Recorded> {
    let id = r.evaluation_result_identifier()?;
    let q = id.evaluation_result_qualifier()?;
    Some(Recorded {
        resource_type: q.resource_type()?.to_string(),
        resource_id: q.resource_id()?.to_string(),
        compliance: Compliance::from_config(r.compliance_type()?.as_str()),
        annotation: r.annotation().unwrap_or_default().to_string(),
        recorded_at: r.result_recorded_time().and_then(from_sdk_time),
        ordered_at: id.ordering_timestamp().and_then(from_sdk_time),
    })
}
