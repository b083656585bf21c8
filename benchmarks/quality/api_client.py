"""A minimal ModelService client shared by the benchmark scripts: JSON calls, and one timed train-then-score round."""
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

    def train_and_score(self, job_request, records, truth, poll_seconds):
        """Submits a training job, polls it to success and scores `records` with its model.
        Returns (seconds from submit to succeeded, test RMSE against `truth`)."""
        started = time.perf_counter()
        job = self.call("POST", "/api/v1/training-jobs", json.dumps(job_request).encode())
        while job["status"] in ("queued", "running"):
            time.sleep(poll_seconds)
            job = self.call("GET", f"/api/v1/training-jobs/{job['id']}")
        seconds = time.perf_counter() - started
        if job["status"] != "succeeded":
            raise SystemExit(f"job {job['id']} {job['status']}: {job['error']}")
        scored = self.call("POST", "/api/v1/predictions", json.dumps({"records": records, "modelId": job["modelId"]}).encode())
        rmse = math.sqrt(sum((p - y) ** 2 for p, y in zip(scored["predictions"], truth)) / len(truth))
        return seconds, rmse
