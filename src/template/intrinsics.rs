//! The values a template's intrinsic functions have before deployment: a `Ref` to a parameter
//! (its given value, else its `Default`), the pseudo parameters the caller knows, `Fn::Sub` and
//! `Fn::Join` of known parts. Everything else (`Fn::GetAtt`, `Fn::ImportValue`, a parameter with
//! neither value nor default, …) is unknown, with the reason.

use super::Known;
use serde_json::Value;
use std::collections::BTreeMap;

/// What is known about the deployment, outside the template.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Context {
    /// `AWS::StackName`.
    pub stack_name: Option<String>,
    /// `AWS::Region`: the Region a table without its own Region would be in.
    pub region: Option<String>,
    /// `AWS::AccountId`.
    pub account: Option<String>,
    /// Template parameter values given by the caller; a parameter not here takes its `Default`.
    pub parameters: BTreeMap<String, String>,
}

/// A template's parameters with the values they would take.
#[derive(Debug, Default)]
pub struct Parameters {
    values: BTreeMap<String, Known<String>>,
}

impl Parameters {
    /// The template's `Parameters`, each from the caller's value, else its `Default`.
    pub fn of(template: &Value, ctx: &Context) -> Parameters {
        let mut values = BTreeMap::new();
        if let Some(declared) = template.get("Parameters").and_then(Value::as_object) {
            for (name, decl) in declared {
                let value = match (ctx.parameters.get(name), decl.get("Default")) {
                    (Some(v), _) => Known::Value(v.clone()),
                    (None, Some(d)) => match scalar(d) {
                        Some(v) => Known::Value(v),
                        None => Known::Unknown(format!("parameter {name}'s Default is not text")),
                    },
                    (None, None) => Known::Unknown(format!(
                        "parameter {name} has no Default; give it with --template-parameter {name}=VALUE"
                    )),
                };
                values.insert(name.clone(), value);
            }
        }
        Parameters { values }
    }
}

fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// The value of a name `Ref` or `${…}` can reach: a pseudo parameter or a template parameter.
fn reference(name: &str, params: &Parameters, ctx: &Context) -> Known<String> {
    let given = |v: &Option<String>, flag: &str| match v {
        Some(v) => Known::Value(v.clone()),
        None => Known::Unknown(format!("{name} is not known; give {flag}")),
    };
    match name {
        "AWS::StackName" => given(&ctx.stack_name, "--stack-name"),
        "AWS::Region" => given(&ctx.region, "--region"),
        "AWS::AccountId" => given(&ctx.account, "a snapshot or credentials"),
        "AWS::Partition" => match &ctx.region {
            Some(r) => Known::Value(crate::model::partition_of_region(r).to_string()),
            None => Known::Unknown(format!("{name} is not known; give --region")),
        },
        "AWS::URLSuffix" => Known::Value("amazonaws.com".into()),
        _ => match params.values.get(name) {
            Some(v) => v.clone(),
            None => Known::Unknown(format!(
                "Ref {name} names a resource, known only at deployment"
            )),
        },
    }
}

/// The text a value resolves to before deployment.
pub fn resolve(v: &Value, params: &Parameters, ctx: &Context) -> Known<String> {
    if let Some(s) = scalar(v) {
        return Known::Value(s);
    }
    let Some(obj) = v.as_object().filter(|o| o.len() == 1) else {
        return Known::Unknown("a value that is not text".into());
    };
    let (func, arg) = obj.iter().next().expect("one entry");
    match func.as_str() {
        "Ref" => match arg.as_str() {
            Some(name) => reference(name, params, ctx),
            None => Known::Unknown("a Ref that does not name anything".into()),
        },
        "Fn::Sub" => sub(arg, params, ctx),
        "Fn::Join" => join(arg, params, ctx),
        other => Known::Unknown(format!("{other} is known only at deployment")),
    }
}

fn join(arg: &Value, params: &Parameters, ctx: &Context) -> Known<String> {
    let Some([delimiter, Value::Array(items)]) = arg.as_array().map(Vec::as_slice) else {
        return Known::Unknown("Fn::Join that is not [delimiter, [values]]".into());
    };
    let Some(delimiter) = delimiter.as_str() else {
        return Known::Unknown("Fn::Join with a delimiter that is not text".into());
    };
    let mut parts = Vec::new();
    for item in items {
        match resolve(item, params, ctx) {
            Known::Value(s) => parts.push(s),
            unknown => return unknown,
        }
    }
    Known::Value(parts.join(delimiter))
}

fn sub(arg: &Value, params: &Parameters, ctx: &Context) -> Known<String> {
    let (text, vars) = match arg {
        Value::String(s) => (s.as_str(), None),
        Value::Array(a) => match a.as_slice() {
            [Value::String(s), Value::Object(vars)] => (s.as_str(), Some(vars)),
            _ => return Known::Unknown("Fn::Sub that is not text or [text, {variables}]".into()),
        },
        _ => return Known::Unknown("Fn::Sub that is not text or [text, {variables}]".into()),
    };
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        // `${!Literal}` writes `${Literal}`.
        if let Some(literal) = after.strip_prefix('!') {
            out.push_str("${");
            rest = literal;
            continue;
        }
        let Some(end) = after.find('}') else {
            return Known::Unknown("Fn::Sub with an unclosed ${".into());
        };
        let name = after[..end].trim();
        let value = match vars.and_then(|v| v.get(name)) {
            Some(v) => resolve(v, params, ctx),
            None if name.contains('.') => Known::Unknown(format!(
                "${{{name}}} is an attribute, known only at deployment"
            )),
            None => reference(name, params, ctx),
        };
        match value {
            Known::Value(v) => out.push_str(&v),
            unknown => return unknown,
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Known::Value(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ctx() -> Context {
        Context {
            stack_name: Some("shop".into()),
            region: Some("eu-west-1".into()),
            account: Some("111122223333".into()),
            parameters: BTreeMap::from([("Env".into(), "prod".into())]),
        }
    }

    #[test]
    fn refs_subs_and_joins_of_known_values_resolve() {
        let template = json!({"Parameters": {"Env": {"Type": "String", "Default": "dev"},
            "Team": {"Type": "String", "Default": "payments"}, "Secret": {"Type": "String"}}});
        let p = Parameters::of(&template, &ctx());
        let r = |v: Value| resolve(&v, &p, &ctx());
        // The caller's value wins over the Default; the Default stands in otherwise.
        assert_eq!(r(json!({"Ref": "Env"})), Known::Value("prod".into()));
        assert_eq!(r(json!({"Ref": "Team"})), Known::Value("payments".into()));
        assert_eq!(
            r(json!({"Fn::Sub": "${AWS::StackName}-${Env}-orders-${!Literal}"})),
            Known::Value("shop-prod-orders-${Literal}".into())
        );
        assert_eq!(
            r(json!({"Fn::Sub": ["${Prefix}-x", {"Prefix": {"Ref": "Team"}}]})),
            Known::Value("payments-x".into())
        );
        assert_eq!(
            r(json!({"Fn::Join": ["-", [{"Ref": "AWS::Region"}, "t"]]})),
            Known::Value("eu-west-1-t".into())
        );
        // What is known only at deployment says so, and why.
        for (v, why) in [
            (json!({"Ref": "Secret"}), "no Default"),
            (json!({"Fn::GetAtt": ["Q", "Arn"]}), "Fn::GetAtt"),
            (json!({"Fn::Sub": "${Q.Arn}-x"}), "attribute"),
            (json!({"Ref": "SomeBucket"}), "names a resource"),
        ] {
            match r(v) {
                Known::Unknown(reason) => assert!(reason.contains(why), "{reason}"),
                known => panic!("{known:?}"),
            }
        }
    }
}
