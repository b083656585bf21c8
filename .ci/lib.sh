# Helpers shared by the container checks (.ci/container-test.sh, .ci/cluster-test.sh). The sourcing script defines
# step MESSAGE, fail MESSAGE and BASE (the address the checks call).

need_tools() {
    local missing=()
    command -v curl >/dev/null || missing+=(curl)
    command -v jq >/dev/null || missing+=(jq)
    if ((${#missing[@]})); then
        step "installing ${missing[*]}"
        apt-get -o DPkg::Lock::Timeout=600 update -qq
        DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq "${missing[@]}" >/dev/null
    fi
}

# http METHOD PATH [curl args...]: prints nothing, sets STATUS and BODY.
http() {
    local method=$1 path=$2 out
    shift 2
    out=$(curl -sS -X "$method" -w '\n%{http_code}' "$@" "$BASE$path") || fail "$method $path: no answer"
    STATUS=${out##*$'\n'}
    BODY=${out%$'\n'*}
}

# expect STATUS WHAT: fails the check unless the last http call answered STATUS.
expect() {
    local want=$1 what=$2
    [[ $STATUS == "$want" ]] || fail "$what: expected HTTP $want, got $STATUS: $BODY"
}
