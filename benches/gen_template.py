#!/usr/bin/env python3
"""A large CloudFormation template for check-template's benchmark: gen_template.py TABLES > FILE.
Tables named like the benchmark account's (gen_snapshot.py), tagged like them, some with generated
names and parameter references, each padded with attribute definitions, GSIs and stream settings
to about 2 KB, as real tables are (500 tables make a 1 MB template)."""
import random, sys

n = int(sys.argv[1])
rnd = random.Random(5)
teams = ["orders", "payments", "search", "users", "billing", "catalog", "ledger", "audit", "events", "sessions"]
envs = ["prod", "staging", "dev", "test"]
out = ["AWSTemplateFormatVersion: \"2010-09-09\"", "Parameters:", "  Env:", "    Type: String", "    Default: prod", "Resources:"]
for i in range(n):
    team, env = rnd.choice(teams), rnd.choice(envs)
    out.append(f"  Table{i:04d}:")
    out.append("    Type: AWS::DynamoDB::Table")
    out.append("    Properties:")
    if i % 10 != 7:
        out.append(f"      TableName: !Sub \"${{Env}}-{team}-{i:05d}\"" if i % 3 == 0 else f"      TableName: {env}-{team}-{i:05d}")
    out.append("      BillingMode: PAY_PER_REQUEST")
    out.append("      AttributeDefinitions:")
    for a in ["pk", "sk", "gsi1pk", "gsi1sk", "gsi2pk", "gsi2sk", "gsi3pk", "gsi3sk"]:
        out.append(f"        - AttributeName: {a}")
        out.append("          AttributeType: S")
    out.append("      KeySchema:")
    out.append("        - {AttributeName: pk, KeyType: HASH}")
    out.append("        - {AttributeName: sk, KeyType: RANGE}")
    out.append("      GlobalSecondaryIndexes:")
    for g in (1, 2, 3):
        out.append(f"        - IndexName: gsi{g}-{team}-by-secondary-key-for-lookups")
        out.append(f"          KeySchema: [{{AttributeName: gsi{g}pk, KeyType: HASH}}, {{AttributeName: gsi{g}sk, KeyType: RANGE}}]")
        out.append("          Projection: {ProjectionType: INCLUDE, NonKeyAttributes: [status, createdAt, updatedAt, owner, amount, currency]}")
    out.append("      StreamSpecification: {StreamViewType: NEW_AND_OLD_IMAGES}")
    out.append("      PointInTimeRecoverySpecification: {PointInTimeRecoveryEnabled: true}")
    out.append("      SSESpecification: {SSEEnabled: true}")
    out.append("      TimeToLiveSpecification: {AttributeName: expiresAt, Enabled: true}")
    out.append("      Tags:")
    out.append(f"        - {{Key: team, Value: {team}}}")
    out.append("        - {Key: env, Value: !Ref Env}" if i % 4 == 0 else f"        - {{Key: env, Value: {env}}}")
    if rnd.random() < 0.5:
        out.append(f"        - {{Key: backup, Value: {rnd.choice(['daily', 'weekly', 'none'])}}}")
    out.append(f"        - {{Key: description, Value: \"{team} data for the {env} environment, owned by the {team} team; see the runbook for restores and retention.\"}}")
print("\n".join(out))
