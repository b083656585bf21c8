"""Mixed-load driver for scripts/soak.sh (standard library only): one thread per kind of client, all against one
service, with the service's RSS sampled every 10 s from /proc."""
import argparse
import collections
import gzip
import io
import json
import random
import threading
import time
import urllib.error
import urllib.request

parser = argparse.ArgumentParser()
parser.add_argument("--url", required=True)
parser.add_argument("--key", required=True)
parser.add_argument("--pid", type=int, required=True)
parser.add_argument("--seconds", type=int, default=600)
parser.add_argument("--keep", help="folder where archives whose import failed are saved")
args = parser.parse_args()

counts = collections.Counter()
errors = collections.Counter()
examples = {}
lock = threading.Lock()
stop = time.monotonic() + args.seconds


def request(kind, method, path, body=None, content_type=None, expect=(200,), raw=False):
    headers = {"X-Api-Key": args.key}
    if content_type:
        headers["Content-Type"] = content_type
    req = urllib.request.Request(args.url + path, data=body, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=120) as response:
            status, payload = response.status, response.read()
    except urllib.error.HTTPError as e:
        status, payload = e.code, e.read()
    except Exception as e:  # connection refused, reset, timeout: the service is not answering
        status, payload = type(e).__name__, b""
    with lock:
        counts[kind] += 1
        if status not in expect:
            errors[(kind, status)] += 1
            examples.setdefault((kind, status), payload[:500].decode("utf-8", "replace"))
    # An expected refusal (a 404 for a model deleted meanwhile, a 409, a 503) is not an error, and has no payload to use.
    if status not in expect or not 200 <= status < 300:
        return None
    return payload if raw else (json.loads(payload) if payload else None)


def houses_csv(rows, seed):
    rng = random.Random(seed)
    lines = ["square_footage,rooms,city,price"]
    for _ in range(rows):
        x0, x1 = rng.random(), rng.random()
        city = rng.choice(["north", "south", "east", "west"])
        lines.append(f"{x0:.6f},{x1:.6f},{city},{100000 + 400000 * x0 + 50000 * x1 + rng.gauss(0, 5000):.2f}")
    return ("\n".join(lines) + "\n").encode()


def predictor():
    rng = random.Random(1)
    while time.monotonic() < stop:
        rows = rng.choice([1, 10, 1000])
        body = json.dumps({"instances": [[rng.random(), rng.random()] for _ in range(rows)]}).encode()
        request("predict", "POST", "/api/v1/predictions", body, "application/json")


def inferrer():
    rng = random.Random(2)
    while time.monotonic() < stop:
        data = [rng.random() for _ in range(200)]
        body = json.dumps({"inputs": [{"name": "input0", "shape": [100, 2], "datatype": "FP32", "data": data}]}).encode()
        request("infer", "POST", "/v2/models/modelservice/infer", body, "application/json")


def uploader():
    seed = 0
    while time.monotonic() < stop:
        seed += 1
        rows = 200_000 if seed % 10 == 0 else 2000
        created = request("upload", "POST", f"/api/v1/datasets?name=soak-{seed}", houses_csv(rows, seed), "text/csv", expect=(201,))
        if created:
            request("delete-dataset", "DELETE", f"/api/v1/datasets/{created['id']}", expect=(204, 409))


def trainer():
    seed = 0
    dataset = None
    while time.monotonic() < stop:
        seed += 1
        if dataset is None:
            created = request("upload", "POST", "/api/v1/datasets?name=soak-train", houses_csv(3000, 99), "text/csv", expect=(201,))
            dataset = created and created["id"]
            continue
        job = request("train", "POST", "/api/v1/training-jobs", json.dumps(
            {"datasetId": dataset, "target": "price", "features": ["square_footage", "rooms"], "epochs": 3, "seed": seed,
             "activate": False}).encode(), "application/json", expect=(202, 503))
        if not job:
            time.sleep(1)
            continue
        while time.monotonic() < stop + 60:
            state = request("poll", "GET", f"/api/v1/training-jobs/{job['id']}")
            if not state or state["status"] in ("succeeded", "failed", "cancelled"):
                break
            time.sleep(0.5)
        if not state or state["status"] != "succeeded":
            with lock:
                errors[("train", state["status"] if state else "poll")] += 1
            continue
        model = state["modelId"]
        previous = request("active", "GET", "/api/v1/models/active")
        request("activate", "POST", f"/api/v1/models/{model}/activate", expect=(200, 204))
        if previous:
            request("delete-model", "DELETE", f"/api/v1/models/{previous['id']}", expect=(204, 409))


def importer():
    while time.monotonic() < stop:
        active = request("active", "GET", "/api/v1/models/active")
        if not active:
            time.sleep(1)
            continue
        archive = request("download", "GET", f"/api/v1/models/{active['id']}/artifact", expect=(200, 404), raw=True)
        if not archive:
            continue
        imported = request("import", "POST", "/api/v1/models", archive, "application/gzip", expect=(201,))
        if imported is None and args.keep:
            with open(f"{args.keep}/import-{time.monotonic():.0f}-{active['id']}.tar.gz", "wb") as kept:
                kept.write(archive)
        if imported:
            request("delete-model", "DELETE", f"/api/v1/models/{imported['id']}", expect=(204,))
        time.sleep(0.2)


def rss_mb():
    with open(f"/proc/{args.pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


threads = [threading.Thread(target=t, daemon=True) for t in (predictor, predictor, inferrer, uploader, trainer, importer)]
started = time.monotonic()
samples = [(0, rss_mb())]
print(f"t=0s rss={samples[0][1]:.0f} MB", flush=True)
for t in threads:
    t.start()
alive = True
while time.monotonic() < stop:
    time.sleep(min(10, max(0, stop - time.monotonic())))
    try:
        rss = rss_mb()
    except FileNotFoundError:
        alive = False
        print("the service process is gone", flush=True)
        break
    elapsed = time.monotonic() - started
    samples.append((elapsed, rss))
    with lock:
        total, failed = sum(counts.values()), sum(errors.values())
        kinds = " ".join(f"{k}={v}" for k, v in sorted(counts.items()))
    print(f"t={elapsed:.0f}s rss={rss:.0f} MB requests={total} errors={failed} [{kinds}]", flush=True)
for t in threads:
    t.join(timeout=120)

print(f"rss start={samples[0][1]:.0f} MB end={samples[-1][1]:.0f} MB peak={max(s[1] for s in samples):.0f} MB "
      f"(first minute max={max(s[1] for s in samples if s[0] <= 60):.0f} MB, last minute max="
      f"{max(s[1] for s in samples if s[0] >= samples[-1][0] - 60):.0f} MB)")
print(f"requests={sum(counts.values())} errors={sum(errors.values())}")
for (kind, status), n in sorted(errors.items(), key=str):
    print(f"  error {kind} {status}: {n}, e.g. {examples.get((kind, status), '')}")
raise SystemExit(0 if alive and not errors else 1)
