//! Every AWS operation the code calls, as the IAM action that allows it, tagged by the path that
//! needs it. The templates' roles are tested against this list in both directions, and the list
//! against the action names in this folder's code, so a new call cannot ship without its
//! permission, nor a permission outlive its call.

/// Which deployment path needs an action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActionPath {
    /// The Config rule in one account: change events, periodic passes, backup changes, both
    /// inventory sources. Every template's evaluating role needs these.
    Rule,
    /// The organization variant's central role: assuming the member roles.
    CrossAccount,
    /// Policy parameters: recovery point age (`ListRecoveryPointsByResource`). The templates
    /// grant it, since parameters can change without redeploying the function.
    Policy,
    /// Only the CLI's live modes (run with the user's own credentials, never deployed).
    Cli,
}

/// The IAM actions, one per operation the code calls.
pub const ACTIONS: &[(&str, ActionPath)] = &[
    ("backup:DescribeRegionSettings", ActionPath::Rule),
    ("backup:ListBackupPlans", ActionPath::Rule),
    ("backup:GetBackupPlan", ActionPath::Rule),
    ("backup:ListBackupSelections", ActionPath::Rule),
    ("backup:GetBackupSelection", ActionPath::Rule),
    ("backup:ListBackupVaults", ActionPath::Rule),
    ("config:PutEvaluations", ActionPath::Rule),
    ("config:GetResourceConfigHistory", ActionPath::Rule),
    ("config:DescribeConfigurationRecorders", ActionPath::Rule),
    (
        "config:DescribeConfigurationRecorderStatus",
        ActionPath::Rule,
    ),
    ("config:SelectResourceConfig", ActionPath::Rule),
    ("config:GetComplianceDetailsByConfigRule", ActionPath::Rule),
    ("config:GetComplianceDetailsByResource", ActionPath::Rule),
    ("dynamodb:ListTagsOfResource", ActionPath::Rule),
    ("dynamodb:ListTables", ActionPath::Rule),
    ("dynamodb:DescribeTable", ActionPath::Rule),
    ("tag:GetResources", ActionPath::Rule),
    ("backup:ListRecoveryPointsByResource", ActionPath::Policy),
    ("sts:AssumeRole", ActionPath::CrossAccount),
    ("sts:GetCallerIdentity", ActionPath::Cli),
];

/// The actions of one path.
pub fn actions(path: ActionPath) -> Vec<&'static str> {
    ACTIONS
        .iter()
        .filter(|(_, p)| *p == path)
        .map(|(a, _)| *a)
        .collect()
}

/// The actions the CloudFormation hook's function needs: reading the AWS Backup catalog, and
/// nothing of Config or DynamoDB (a proposed table is read from the request, not the account).
pub const HOOK_ACTIONS: &[&str] = &[
    "backup:DescribeRegionSettings",
    "backup:ListBackupPlans",
    "backup:GetBackupPlan",
    "backup:ListBackupSelections",
    "backup:GetBackupSelection",
    "backup:ListBackupVaults",
];
