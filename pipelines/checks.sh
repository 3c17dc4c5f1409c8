#!/usr/bin/env bash
# The checks every example pipeline runs, in one place so that GitHub Actions, CodeBuild and GitLab CI run the same
# commands (and the tests run them too). Each step writes its reports under $OUT (default build/pipeline).
#
#   pipelines/checks.sh precheck CONFIG...         static precheck: SARIF + JUnit XML, exit 1 on an error finding
#   pipelines/checks.sh synth CONFIG               cdk synth with cdk-nag (fails on an unacknowledged finding)
#   pipelines/checks.sh smoke-local CONFIG RECORDS the bundled example container + the local endpoint + smoke test
#   pipelines/checks.sh deploy CONFIG RECORDS      cdk deploy, verify-deployment and smoke on a real account
#
# In your own repository, replace the example container in smoke-local by your image
# (`docker run -d -p 8090:8080 IMAGE serve`) and keep the rest.
set -euo pipefail

OUT=${OUT:-build/pipeline}
KIT=${CLARIFY_KIT:-clarify-kit}
PYTHON=${PYTHON:-python3}
mkdir -p "$OUT"

free_port() { "$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

step=${1:?usage: pipelines/checks.sh precheck|synth|smoke-local|deploy ...}
shift
case "$step" in
  precheck)
    status=0
    "$KIT" precheck "$@" --format sarif --junit-xml "$OUT/precheck-junit.xml" > "$OUT/precheck.sarif" || status=$?
    "$KIT" precheck "$@" || true  # the findings again, readable in the log
    exit "$status"
    ;;
  synth)
    config=${1:?usage: pipelines/checks.sh synth CONFIG}
    npx --no-install cdk synth -q -c "config=$config" -o "$OUT/cdk.out"
    ;;
  smoke-local)
    config=${1:?usage: pipelines/checks.sh smoke-local CONFIG RECORDS}
    records=${2:?usage: pipelines/checks.sh smoke-local CONFIG RECORDS}
    model_port=$(free_port)
    endpoint_port=$(free_port)
    pids=()
    trap 'kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true' EXIT
    "$PYTHON" -m examples.models binary "$OUT/models/binary"
    "$PYTHON" -m examples.container --model-dir "$OUT/models/binary" --port "$model_port" &
    pids+=($!)
    "$KIT" serve-local "$config" --model-url "http://127.0.0.1:$model_port" --port "$endpoint_port" &
    pids+=($!)
    "$PYTHON" -m examples.runner wait "http://127.0.0.1:$model_port" "http://127.0.0.1:$endpoint_port"
    "$KIT" precheck "$config" --container-url "http://127.0.0.1:$model_port" --junit-xml \
      "$OUT/container-precheck-junit.xml"
    AWS_ACCESS_KEY_ID=${AWS_ACCESS_KEY_ID:-local} AWS_SECRET_ACCESS_KEY=${AWS_SECRET_ACCESS_KEY:-local} \
      "$KIT" smoke "$("$KIT" names "$config" --field endpoint)" --config "$config" --records "$records" \
      --endpoint-url "http://127.0.0.1:$endpoint_port" --region us-east-1 --junit-xml "$OUT/smoke-junit.xml"
    ;;
  deploy)
    config=${1:?usage: pipelines/checks.sh deploy CONFIG RECORDS}
    records=${2:?usage: pipelines/checks.sh deploy CONFIG RECORDS}
    npx --no-install cdk deploy --require-approval never -c "config=$config" -o "$OUT/cdk.out" \
      --outputs-file "$OUT/outputs.json"
    endpoint=$("$KIT" names "$config" --field endpoint)
    deployed_config=$("$KIT" names "$config" --cdk-outputs "$OUT/outputs.json" --field endpoint-config)
    "$KIT" verify-deployment "$endpoint" --expected-config "$deployed_config" \
      --config "$config" --json > "$OUT/verify.json"
    "$KIT" smoke "$endpoint" --config "$config" --records "$records" --junit-xml "$OUT/smoke-junit.xml"
    ;;
  *)
    echo "pipelines/checks.sh: unknown step '$step' (precheck, synth, smoke-local or deploy)" >&2
    exit 2
    ;;
esac
