"""Checks one output file of `dynamodb-backup-rule evaluate --format asff|junit|sarif` against
the format's published definition (installed by scripts/format-validators.sh). Prints one line
per problem and exits 1 when there is any, else prints a one-line count and exits 0.

    validate-formats.py asff FILE
    validate-formats.py sarif FILE SCHEMA.json
    validate-formats.py junit FILE SCHEMA.xsd
"""

import json
import sys


def asff(path):
    """The file must be a valid BatchImportFindings request under Security Hub's API model:
    botocore's validator checks required members, types and unknown keys; the walk below adds
    the model's enums and length limits, which botocore leaves to the service."""
    import botocore.session
    from botocore.validate import ParamValidator

    doc = json.load(open(path))
    model = botocore.session.get_session().get_service_model("securityhub")
    shape = model.operation_model("BatchImportFindings").input_shape
    problems = []
    report = ParamValidator().validate(doc, shape)
    if report.has_errors():
        problems.append(report.generate_report())

    def walk(value, shape, where):
        if shape.type_name == "structure" and isinstance(value, dict):
            for k, v in value.items():
                if k in shape.members:
                    walk(v, shape.members[k], f"{where}.{k}")
        elif shape.type_name == "list" and isinstance(value, list):
            for i, v in enumerate(value):
                walk(v, shape.member, f"{where}[{i}]")
        elif shape.type_name == "map" and isinstance(value, dict):
            for k, v in value.items():
                walk(v, shape.value, f"{where}[{k!r}]")
        elif shape.type_name == "string" and isinstance(value, str):
            if shape.enum and value not in shape.enum:
                problems.append(f"{where}: {value!r} is not one of {shape.enum}")
            top = shape.metadata.get("max")
            if top is not None and len(value) > top:
                problems.append(f"{where}: {len(value)} characters, more than {top}")

    walk(doc, shape, "")
    return problems, f"{len(doc.get('Findings', []))} findings"


def sarif(path, schema_path):
    import jsonschema

    doc = json.load(open(path))
    schema = json.load(open(schema_path))
    validator = jsonschema.Draft7Validator(schema)
    problems = [
        f"{'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}"
        for e in validator.iter_errors(doc)
    ]
    results = sum(len(r.get("results", [])) for r in doc.get("runs", []))
    return problems, f"{results} results"


def junit(path, xsd_path):
    import xmlschema

    schema = xmlschema.XMLSchema(xsd_path)
    problems = [str(e).splitlines()[0] for e in schema.iter_errors(path)]
    return problems, "JUnit document"


def main(argv):
    kinds = {"asff": (asff, 1), "sarif": (sarif, 2), "junit": (junit, 2)}
    if len(argv) < 3 or argv[1] not in kinds or len(argv) != 2 + kinds[argv[1]][1]:
        print(__doc__, file=sys.stderr)
        return 2
    check, _ = kinds[argv[1]]
    problems, what = check(*argv[2:])
    for p in problems:
        print(f"invalid {argv[1]}: {p}")
    if problems:
        return 1
    print(f"valid {argv[1]}: {what}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
