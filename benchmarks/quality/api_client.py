"""A minimal ModelService client shared by the benchmark scripts: JSON calls, one timed train-then-score round, and the
California housing split the California scripts upload and score."""
import csv
import io
import json
import math
import time
import urllib.error
import urllib.request


class Client:
    def __init__(self, url, api_key=None):
        self.url = url
        self.api_key = api_key

    def call(self, method, path, body=None, content_type="application/json"):
        headers = {"Content-Type": content_type} if body is not None else {}
        if self.api_key:
            headers["X-Api-Key"] = self.api_key
        request = urllib.request.Request(self.url + path, body, headers, method=method)
        try:
            with urllib.request.urlopen(request) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as error:
            raise SystemExit(f"{method} {path}: HTTP {error.code}: {error.read().decode(errors='replace')}") from error

    def wait(self, path, poll_seconds):
        """Polls a job or sweep at `path` until it leaves queued/running; exits unless it succeeded."""
        run = self.call("GET", path)
        while run["status"] in ("queued", "running"):
            time.sleep(poll_seconds)
            run = self.call("GET", path)
        if run["status"] != "succeeded":
            raise SystemExit(f"{run['id']} {run['status']}: {run['error']}")
        return run

    def test_rmse(self, model_id, records, truth):
        """Scores `records` with the model and returns the RMSE against `truth`."""
        scored = self.call("POST", "/api/v1/predictions", json.dumps({"records": records, "modelId": model_id}).encode())
        return math.sqrt(sum((p - y) ** 2 for p, y in zip(scored["predictions"], truth)) / len(truth))

    def train_and_score(self, job_request, records, truth, poll_seconds):
        """Submits a training job, polls it to success and scores `records` with its model.
        Returns (seconds from submit to succeeded, test RMSE against `truth`)."""
        started = time.perf_counter()
        job = self.call("POST", "/api/v1/training-jobs", json.dumps(job_request).encode())
        job = self.wait(f"/api/v1/training-jobs/{job['id']}", poll_seconds)
        seconds = time.perf_counter() - started
        return seconds, self.test_rmse(job["modelId"], records, truth)


CALIFORNIA_TARGET = "median_house_value"
CALIFORNIA_CATEGORICAL = {"ocean_proximity"}


def upload_california(client, path):
    """Uploads the rows of the California CSV whose 0-based index % 5 != 0, raw, as a dataset, and returns it with the
    other rows as raw `records` (missing values null, ocean_proximity a string) and their targets:
    (dataset, records, truth, train_rows)."""
    with open(path, newline="") as f:
        header, *rows = list(csv.reader(f))
    train = [r for i, r in enumerate(rows) if i % 5 != 0]
    test = [r for i, r in enumerate(rows) if i % 5 == 0]
    upload = io.StringIO()
    csv.writer(upload).writerows([header, *train])
    dataset = client.call("POST", "/api/v1/datasets?name=california-train", upload.getvalue().encode(), "text/csv")
    target = header.index(CALIFORNIA_TARGET)
    records = [
        {name: None if r[j] == "" else (r[j] if name in CALIFORNIA_CATEGORICAL else float(r[j]))
         for j, name in enumerate(header) if j != target}
        for r in test
    ]
    truth = [float(r[target]) for r in test]
    return dataset, records, truth, len(train)
