//! The CloudFormation templates: least privilege proved against the code's own list of AWS
//! operations, confused-deputy protection, trust, and the rule wiring. (`cfn-lint` checks the
//! rest in `.ci/run`.)

use crate::util::repo_path;
use dynamodb_backup_rule::aws::actions::{actions, ActionPath, ACTIONS};
use serde_norway::Value;
use std::collections::BTreeSet;

fn template(name: &str) -> Value {
    let text =
        std::fs::read_to_string(repo_path(&format!("cloudformation/{name}"))).expect("template");
    serde_norway::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn resources<'a>(t: &'a Value, kind: &str) -> Vec<(&'a str, &'a Value)> {
    t["Resources"]
        .as_mapping()
        .expect("Resources")
        .iter()
        .filter(|(_, r)| r["Type"].as_str() == Some(kind))
        .map(|(k, r)| (k.as_str().unwrap_or_default(), r))
        .collect()
}

fn strings(v: &Value) -> Vec<String> {
    match v {
        Value::String(s) => vec![s.clone()],
        Value::Sequence(items) => items.iter().flat_map(strings).collect(),
        _ => Vec::new(),
    }
}

/// A policy document: a mapping, or (where condition keys need substitution) a `!Sub` JSON
/// string, read with every `${…}` left as written.
fn policy_document(doc: &Value) -> Value {
    let text = match doc {
        Value::Tagged(t) => t.value.as_str().map(str::to_string),
        Value::String(s) => Some(s.clone()),
        _ => None,
    };
    match text {
        Some(json) => serde_norway::from_str(&json).expect("a policy document in JSON"),
        None => doc.clone(),
    }
}

/// Every policy statement that applies to the role `id` of template `t`: its inline policies
/// and the `AWS::IAM::Policy` resources attached to it.
fn role_statements(t: &Value, id: &str) -> Vec<Value> {
    let role = &t["Resources"][id];
    let inline = role["Properties"]["Policies"]
        .as_sequence()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .map(|p| policy_document(&p["PolicyDocument"]));
    let attached = resources(t, "AWS::IAM::Policy")
        .into_iter()
        .filter(|(_, p)| format!("{:?}", p["Properties"]["Roles"]).contains(&format!("\"{id}\"")))
        .map(|(_, p)| policy_document(&p["Properties"]["PolicyDocument"]));
    inline
        .chain(attached)
        .flat_map(|d| d["Statement"].as_sequence().cloned().unwrap_or_default())
        .collect()
}

/// Every action a role's inline policies allow.
fn role_actions(role: &Value) -> BTreeSet<String> {
    role["Properties"]["Policies"]
        .as_sequence()
        .cloned()
        .unwrap_or_default()
        .iter()
        .flat_map(|p| {
            policy_document(&p["PolicyDocument"])["Statement"]
                .as_sequence()
                .cloned()
                .unwrap_or_default()
        })
        .flat_map(|s| strings(&s["Action"]))
        .collect()
}

fn set(list: impl IntoIterator<Item = &'static str>) -> BTreeSet<String> {
    list.into_iter().map(str::to_string).collect()
}

fn without_logs(actions: BTreeSet<String>) -> BTreeSet<String> {
    // The Lambda service writes the function's logs, and sends failed invocations to the
    // OnFailure queue, with its role; the code calls no logs, SQS or KMS API.
    actions
        .into_iter()
        .filter(|a| !a.starts_with("logs:") && !a.starts_with("sqs:") && !a.starts_with("kms:"))
        .collect()
}

#[test]
fn every_role_allows_exactly_the_operations_its_path_calls() {
    let mut rule = set(actions(ActionPath::Rule));
    rule.extend(set(actions(ActionPath::Policy)));
    let single = template("dynamodb-backup-rule.yaml");
    // The function's role; the optional remediation role is checked on its own below.
    let role = &single["Resources"]["FunctionRole"];
    assert_eq!(
        without_logs(role_actions(role)),
        rule,
        "single-account role"
    );
    let ids: Vec<&str> = resources(&single, "AWS::IAM::Role")
        .iter()
        .map(|(id, _)| *id)
        .collect();
    assert_eq!(ids.len(), 2, "{ids:?}");

    let org = template("organization.yaml");
    let [(_, central)] = resources(&org, "AWS::IAM::Role")[..] else {
        panic!("one role")
    };
    let mut central_expected = rule.clone();
    central_expected.extend(set(actions(ActionPath::CrossAccount)));
    assert_eq!(
        without_logs(role_actions(central)),
        central_expected,
        "central role"
    );

    let member = template("member-role.yaml");
    let [(_, member_role)] = resources(&member, "AWS::IAM::Role")[..] else {
        panic!("one role")
    };
    assert_eq!(role_actions(member_role), rule, "member role");
}

#[test]
fn no_template_grants_wildcard_actions_or_managed_policies() {
    for name in [
        "dynamodb-backup-rule.yaml",
        "organization.yaml",
        "member-role.yaml",
    ] {
        let t = template(name);
        for (id, role) in resources(&t, "AWS::IAM::Role") {
            assert!(
                role["Properties"]["ManagedPolicyArns"].is_null(),
                "{name} {id}: managed policies"
            );
            for a in role_actions(role) {
                assert!(!a.contains('*'), "{name} {id}: wildcard action {a}");
            }
        }
    }
}

#[test]
fn config_may_invoke_only_on_behalf_of_this_account_or_organization() {
    let single = template("dynamodb-backup-rule.yaml");
    let [(_, p)] = resources(&single, "AWS::Lambda::Permission")[..] else {
        panic!("one permission")
    };
    assert_eq!(
        p["Properties"]["Principal"].as_str(),
        Some("config.amazonaws.com")
    );
    assert!(
        !p["Properties"]["SourceAccount"].is_null(),
        "SourceAccount is set"
    );

    let org = template("organization.yaml");
    let [(_, p)] = resources(&org, "AWS::Lambda::Permission")[..] else {
        panic!("one permission")
    };
    assert_eq!(
        p["Properties"]["Principal"].as_str(),
        Some("config.amazonaws.com")
    );
    // PrincipalOrgID never matches a service principal, so it would deny every member account;
    // the organization boundary is the central role's AssumeRole condition instead.
    assert!(
        p["Properties"]["PrincipalOrgID"].is_null(),
        "PrincipalOrgID would deny member accounts' Config"
    );
    let central = &org["Resources"]["CentralRole"]["Properties"]["Policies"];
    let assume = central
        .as_sequence()
        .into_iter()
        .flatten()
        .flat_map(|p| {
            p["PolicyDocument"]["Statement"]
                .as_sequence()
                .cloned()
                .unwrap_or_default()
        })
        .find(|s| s["Action"].as_str() == Some("sts:AssumeRole"))
        .expect("the central role assumes member roles");
    assert!(
        !assume["Condition"]["StringEquals"]["aws:ResourceOrgID"].is_null(),
        "member roles are assumed only inside the organization"
    );

    let member = template("member-role.yaml");
    let [(_, role)] = resources(&member, "AWS::IAM::Role")[..] else {
        panic!("one role")
    };
    let trust = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
        .as_sequence()
        .unwrap();
    assert_eq!(trust.len(), 1, "one trusted principal");
    let principal = &trust[0]["Principal"];
    assert!(principal["Service"].is_null());
    let aws = format!("{:?}", principal["AWS"]);
    assert!(
        aws.contains(":role/${CentralRoleName}") && !aws.contains(":root"),
        "trusts only the central role: {aws}"
    );
}

#[test]
fn rules_listen_to_every_trigger_and_scope() {
    let types = [
        "AWS::DynamoDB::Table",
        "AWS::Backup::BackupPlan",
        "AWS::Backup::BackupSelection",
    ];
    let messages = [
        "ConfigurationItemChangeNotification",
        "OversizedConfigurationItemChangeNotification",
        "ScheduledNotification",
    ];
    for name in ["dynamodb-backup-rule.yaml", "conformance-pack.yaml"] {
        let t = template(name);
        let [(_, rule)] = resources(&t, "AWS::Config::ConfigRule")[..] else {
            panic!("{name}: one rule")
        };
        let p = &rule["Properties"];
        assert_eq!(
            p["Source"]["Owner"].as_str(),
            Some("CUSTOM_LAMBDA"),
            "{name}"
        );
        let got: Vec<String> = p["Source"]["SourceDetails"]
            .as_sequence()
            .unwrap()
            .iter()
            .map(|d| d["MessageType"].as_str().unwrap_or_default().to_string())
            .collect();
        assert_eq!(got, messages, "{name}");
        assert_eq!(
            strings(&p["Scope"]["ComplianceResourceTypes"]),
            types,
            "{name}"
        );
        assert!(
            !p["InputParameters"]["resourceTags"].is_null()
                && !p["InputParameters"]["resourceId"].is_null(),
            "{name}"
        );
    }
    let single = template("dynamodb-backup-rule.yaml");
    let [(_, rule)] = resources(&single, "AWS::Config::ConfigRule")[..] else {
        panic!()
    };
    assert_eq!(rule["DependsOn"].as_str(), Some("ConfigPermission"));

    let org = template("organization.yaml");
    let [(_, rule)] = resources(&org, "AWS::Config::OrganizationConfigRule")[..] else {
        panic!()
    };
    let meta = &rule["Properties"]["OrganizationCustomRuleMetadata"];
    assert_eq!(
        strings(&meta["OrganizationConfigRuleTriggerTypes"]),
        messages
    );
    assert_eq!(strings(&meta["ResourceTypesScope"]), types);
}

#[test]
fn the_conformance_pack_holds_only_config_rules_wired_to_the_function_parameter() {
    let t = template("conformance-pack.yaml");
    for (id, r) in t["Resources"].as_mapping().unwrap() {
        assert!(
            matches!(
                r["Type"].as_str(),
                Some("AWS::Config::ConfigRule" | "AWS::Config::RemediationConfiguration")
            ),
            "{id:?}: conformance packs take Config rules and remediations only"
        );
    }
    assert_eq!(
        t["Resources"]["Remediation"]["Condition"].as_str(),
        Some("WithRemediation"),
        "the pack's remediation is optional"
    );
    let [(_, rule)] = resources(&t, "AWS::Config::ConfigRule")[..] else {
        panic!()
    };
    let source = format!("{:?}", rule["Properties"]["Source"]["SourceIdentifier"]);
    assert!(source.contains("FunctionArn"), "{source}");
    assert!(!t["Parameters"]["FunctionArn"].is_null());
}

#[test]
fn the_action_list_matches_the_calls_in_the_code() {
    // Every action named in src/aws (classify(...) and error values) is listed, and every listed
    // action of the deployed paths is named there (sts:AssumeRole is made by the SDK's
    // assume-role provider).
    let mut named = BTreeSet::new();
    let mut files = Vec::new();
    let mut dirs = vec![repo_path("src/aws")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else {
                files.push(path);
            }
        }
    }
    for path in files {
        if path.file_name().is_some_and(|n| n == "actions.rs") {
            continue; // the list itself
        }
        let text = std::fs::read_to_string(path).unwrap();
        for chunk in text.split('"').skip(1).step_by(2) {
            let service = chunk.split(':').next().unwrap_or_default();
            if ["backup", "config", "dynamodb", "sts", "tag"].contains(&service)
                && chunk.len() > service.len() + 1
                && chunk[service.len() + 1..]
                    .chars()
                    .all(|c| c.is_ascii_alphabetic())
                && chunk[service.len() + 1..].starts_with(|c: char| c.is_ascii_uppercase())
            {
                named.insert(chunk.to_string());
            }
        }
    }
    let listed: BTreeSet<String> = ACTIONS.iter().map(|(a, _)| a.to_string()).collect();
    named.remove("sts:AssumeRole");
    let mut listed_called = listed.clone();
    listed_called.remove("sts:AssumeRole");
    assert_eq!(named, listed_called);
}

#[test]
fn the_config_remediation_tags_one_table_with_a_role_that_can_only_tag_tables() {
    let t = template("dynamodb-backup-rule.yaml");
    let r = &t["Resources"];
    // GIVEN the remediation resources, all behind the parameter that names the tag
    assert_eq!(
        r["Remediation"]["Condition"].as_str(),
        Some("WithRemediation")
    );
    for id in [
        "RemediationRole",
        "RemediationPolicy",
        "RemediationDocument",
    ] {
        assert_eq!(
            r[id]["Condition"].as_str(),
            Some("WithRemediationTooling"),
            "{id}"
        );
    }
    // THEN the role may read tags and write only the configured tag with the configured
    // value, on this account's and Region's tables, never over an existing value of that key,
    // and only SSM may assume it
    let statements = role_statements(&t, "RemediationRole");
    let allowed: BTreeSet<String> = statements
        .iter()
        .filter(|s| s["Effect"].as_str() == Some("Allow"))
        .flat_map(|s| strings(&s["Action"]))
        .collect();
    assert_eq!(
        allowed,
        set(["dynamodb:ListTagsOfResource", "dynamodb:TagResource"])
    );
    let tag = statements
        .iter()
        .find(|s| {
            s["Effect"].as_str() == Some("Allow")
                && strings(&s["Action"]) == ["dynamodb:TagResource"]
        })
        .expect("the TagResource statement");
    assert!(
        tag["Resource"]
            .as_str()
            .unwrap()
            .contains("${AWS::Region}:${AWS::AccountId}:table/*"),
        "{:?}",
        tag["Resource"]
    );
    let condition = &tag["Condition"];
    assert_eq!(
        strings(&condition["ForAllValues:StringEquals"]["aws:TagKeys"]),
        ["${RemediationTagKey}"]
    );
    assert_eq!(
        condition["StringEquals"]["aws:RequestTag/${RemediationTagKey}"].as_str(),
        Some("${RemediationTagValue}")
    );
    let deny = statements
        .iter()
        .find(|s| s["Effect"].as_str() == Some("Deny"))
        .expect("a Deny");
    assert_eq!(strings(&deny["Action"]), ["dynamodb:TagResource"]);
    assert_eq!(
        deny["Condition"]["Null"]["aws:ResourceTag/${RemediationTagKey}"].as_str(),
        Some("false")
    );
    let trust = format!(
        "{:?}",
        r["RemediationRole"]["Properties"]["AssumeRolePolicyDocument"]
    );
    assert!(trust.contains("ssm.amazonaws.com"), "{trust}");
    // AND the tag parameters admit only what DynamoDB stores (and what the JSON policy can
    // hold): no quote, no backslash, no aws: prefix
    let key = t["Parameters"]["RemediationTagKey"]["AllowedPattern"]
        .as_str()
        .unwrap();
    assert!(
        key.contains("(?![aA][wW][sS]:)") && !key.contains('"') && !key.contains("\\\\"),
        "{key}"
    );
    // AND the document tags the table Config names, and the remediation passes RESOURCE_ID,
    // for tables only, and retries
    let doc = &r["RemediationDocument"]["Properties"];
    assert_eq!(doc["DocumentType"].as_str(), Some("Automation"));
    let step = &doc["Content"]["mainSteps"][0];
    assert_eq!(step["action"].as_str(), Some("aws:executeScript"));
    let arn = format!("{:?}", step["inputs"]["InputPayload"]["TableArn"]);
    assert!(
        arn.contains("{{global:REGION}}")
            && arn.contains("{{global:ACCOUNT_ID}}")
            && arn.contains("{{TableName}}"),
        "{arn}"
    );
    let rc = &r["Remediation"]["Properties"];
    assert_eq!(
        rc["Parameters"]["TableName"]["ResourceValue"]["Value"].as_str(),
        Some("RESOURCE_ID")
    );
    assert_eq!(rc["ResourceType"].as_str(), Some("AWS::DynamoDB::Table"));
    assert_eq!(rc["TargetType"].as_str(), Some("SSM_DOCUMENT"));
    assert!(rc["MaximumAutomaticAttempts"].as_u64().is_some());
}

#[test]
fn the_remediation_script_tags_a_table_but_never_overwrites_a_value() {
    // GIVEN the Automation document's script, run by python3 with a stand-in for boto3 that
    // holds one table's tags
    let t = template("dynamodb-backup-rule.yaml");
    let script = t["Resources"]["RemediationDocument"]["Properties"]["Content"]["mainSteps"][0]
        ["inputs"]["Script"]
        .as_str()
        .expect("the script")
        .to_string();
    let dir = std::env::temp_dir().join(format!("ddb-remediation-script-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("remediate.py"), &script).unwrap();
    std::fs::write(
        dir.join("boto3.py"),
        r#"import json, os
STATE = os.environ["TAGS_FILE"]
class Client:
    def list_tags_of_resource(self, ResourceArn, NextToken=None):
        tags = json.load(open(STATE))
        # Two pages, to exercise paging.
        half = len(tags) // 2
        if NextToken is None and half:
            return {"Tags": tags[:half], "NextToken": "p2"}
        return {"Tags": tags[half:] if NextToken else tags}
    def tag_resource(self, ResourceArn, Tags):
        tags = json.load(open(STATE))
        for t in Tags:
            tags = [x for x in tags if x["Key"] != t["Key"]] + [t]
        json.dump(tags, open(STATE, "w"))
def client(name):
    assert name == "dynamodb"
    return Client()
"#,
    )
    .unwrap();
    let run = |tags: &str| -> (bool, String, String) {
        let state = dir.join("tags.json");
        std::fs::write(&state, tags).unwrap();
        let out = std::process::Command::new("python3")
            .arg("-c")
            .arg("import remediate, json; print(json.dumps(remediate.handler({'TableArn': 'arn:aws:dynamodb:us-east-1:111122223333:table/t', 'TagKey': 'backup', 'TagValue': 'daily'}, None)))")
            .current_dir(&dir)
            .env("TAGS_FILE", &state)
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .output()
            .expect("python3 runs");
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            std::fs::read_to_string(&state).unwrap(),
        )
    };
    // WHEN the table lacks the key THEN it is tagged
    let (ok, out, tags) =
        run(r#"[{"Key": "team", "Value": "a"}, {"Key": "env", "Value": "prod"}]"#);
    assert!(ok && out.contains("tagged"), "{out}");
    assert!(
        tags.contains(r#""Key": "backup", "Value": "daily""#),
        "{tags}"
    );
    // WHEN it has the key with the same value THEN nothing changes
    let (ok, out, _) = run(r#"[{"Key": "backup", "Value": "daily"}]"#);
    assert!(ok && out.contains("already tagged"), "{out}");
    // WHEN it has the key with another value THEN the step fails and the value stays
    let (ok, _, tags) =
        run(r#"[{"Key": "team", "Value": "a"}, {"Key": "backup", "Value": "weekly"}]"#);
    assert!(!ok);
    assert!(tags.contains("weekly") && !tags.contains("daily"), "{tags}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_organization_rule_passes_the_policy_parameters_as_valid_rule_parameters() {
    let t = template("organization.yaml");
    let rule = &t["Resources"]["OrganizationRule"]["Properties"]["OrganizationCustomRuleMetadata"];
    let sub = rule["InputParameters"]["!Sub"]
        .as_str()
        .or_else(|| rule["InputParameters"].as_str())
        .map(str::to_string)
        .unwrap_or_else(|| format!("{:?}", rule["InputParameters"]));
    // WHEN every ${Parameter} takes its default, or a realistic value
    for overrides in [
        vec![],
        vec![
            ("BackupVaultLockCheck", "true"),
            ("MinRetentionDays", "7"),
            ("CrossRegionList", "us-west-2"),
            ("ResourceTags", r#"{"backup":"daily"}"#),
            ("ExemptionTag", "backup-exempt=true"),
        ],
    ] {
        let mut text = sub.clone();
        for (name, p) in t["Parameters"].as_mapping().unwrap() {
            let name = name.as_str().unwrap();
            let value = overrides
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| v.to_string())
                .unwrap_or_else(|| match &p["Default"] {
                    serde_norway::Value::String(s) => s.clone(),
                    serde_norway::Value::Number(n) => n.to_string(),
                    _ => String::new(),
                });
            text = text.replace(&format!("${{{name}}}"), &value);
        }
        // THEN the rule's InputParameters are JSON the rule accepts
        let doc: serde_json::Value =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
        let parsed = dynamodb_backup_rule::params::RuleParameters::parse(doc.as_object().unwrap());
        assert!(parsed.is_ok(), "{text}: {parsed:?}");
        if !overrides.is_empty() {
            let p = parsed.unwrap();
            assert!(p.policy.vault_lock);
            assert_eq!(p.policy.cross_regions, ["us-west-2"]);
        }
    }
}

#[test]
fn the_hook_template_reads_only_the_backup_catalog_and_its_hook_may_only_invoke_it() {
    use dynamodb_backup_rule::aws::actions::HOOK_ACTIONS;
    let t = template("backup-hook.yaml");
    // Every hook action is one the code calls, on the rule's path.
    let rule = set(actions(ActionPath::Rule));
    assert!(HOOK_ACTIONS.iter().all(|a| rule.contains(*a)));
    let function_role = &t["Resources"]["FunctionRole"];
    assert_eq!(
        without_logs(role_actions(function_role)),
        set(HOOK_ACTIONS.iter().copied()),
        "hook function role"
    );
    // The execution role: trusted by the hook service in this account, invoking this function.
    let exec = &t["Resources"]["HookExecutionRole"];
    let trust = &exec["Properties"]["AssumeRolePolicyDocument"]["Statement"][0];
    assert_eq!(
        trust["Principal"]["Service"],
        "hooks.cloudformation.amazonaws.com"
    );
    assert!(!trust["Condition"]["StringEquals"]["aws:SourceAccount"].is_null());
    let statements = role_statements(&t, "HookExecutionRole");
    assert_eq!(statements.len(), 1, "{statements:?}");
    assert_eq!(statements[0]["Action"], "lambda:InvokeFunction");
    let resource = format!("{:?}", statements[0]["Resource"]);
    assert!(
        resource.contains("GetAtt") && resource.contains("Function.Arn"),
        "{resource}"
    );
    // The hook: the two table types on create and update, WARN by default.
    let hook = &t["Resources"]["Hook"]["Properties"];
    let names = strings(&hook["TargetFilters"]["TargetNames"]);
    assert_eq!(
        names,
        vec!["AWS::DynamoDB::Table", "AWS::DynamoDB::GlobalTable"]
    );
    assert_eq!(
        strings(&hook["TargetFilters"]["Actions"]),
        vec!["CREATE", "UPDATE"]
    );
    assert_eq!(t["Parameters"]["FailureMode"]["Default"], "WARN");
    // Its own function, 30 s, its own concurrency.
    let f = &t["Resources"]["Function"]["Properties"];
    assert_eq!(f["Timeout"].as_u64(), Some(30));
    assert!(!f["ReservedConcurrentExecutions"].is_null());
}
