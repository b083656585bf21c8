"""Cluster-mode measurements for docs/SCALING.md (run through run.sh, which starts PostgreSQL and publishes the app).

drain:      JOBS one-epoch jobs are queued through one API replica, then N workers (each its own process,
            Training:Threads=1, normal CPU priority) start and drain them; claims/s from the jobs' own start/finish
            times (the database's clock), and the database's share of the CPU time spent meanwhile (the postgres
            processes vs the workers' whole lives, start-up included, from /proc).
activation: REPLICAS API replicas; an activation through replica 0, then every other replica polled (2 ms) until its
            /api/v1/models/active names the model; the figure per activation is the slowest replica.
takeover:   two workers with Training:LeaseSeconds=KILL_LEASE; kill -9 of the worker running a job, then the time
            until the job runs again (attempts + 1) on the other worker.
"""
import argparse, json, os, signal, socket, statistics, subprocess, sys, threading, time, urllib.error, urllib.request
from concurrent.futures import ThreadPoolExecutor

CLK = os.sysconf("SC_CLK_TCK")


def env_int(name, default):
    return int(os.environ.get(name, default))


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def http(method, url, body=None, content_type="application/json", timeout=60):
    data = None if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
    request = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": content_type} if data else {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            text = response.read()
            return response.status, (json.loads(text) if text else None)
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode(errors="replace")


class Service:
    def __init__(self, args, database, name, run_jobs, extra=None):
        self.name = name
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        folder = os.path.join(args.work, "roots", name + "-" + database)
        os.makedirs(folder, exist_ok=True)
        env = dict(os.environ,
                   ASPNETCORE_URLS=self.url, ASPNETCORE_ENVIRONMENT="Production", DOTNET_ENVIRONMENT="Production",
                   Storage__Provider="postgres", Storage__Root=folder,
                   ConnectionStrings__Postgres=f"Host=127.0.0.1;Port={args.pg_port};Username=postgres;Database={database}",
                   Training__RunJobs="true" if run_jobs else "false", Training__Threads="1", Training__IdleScheduling="false",
                   Training__Niceness="0",
                   Training__QueueCapacity="100000", RateLimiting__Training__PermitLimit="0",
                   RateLimiting__Predictions__PermitLimit="0", Cluster__InstanceName=name,
                   Serilog__MinimumLevel__Default="Warning")
        env.update(extra or {})
        self.log = open(os.path.join(args.work, f"{name}-{database}.log"), "w")
        self.process = subprocess.Popen(["dotnet", args.app], env=env, stdout=self.log, stderr=subprocess.STDOUT,
                                        cwd=os.path.dirname(args.app))

    def wait_ready(self):
        deadline = time.time() + 90
        while time.time() < deadline:
            try:
                if http("GET", self.url + "/health/ready", timeout=2)[0] == 200:
                    return self
            except OSError:
                pass
            if self.process.poll() is not None:
                sys.exit(f"{self.name} exited with {self.process.returncode}; see its log")
            time.sleep(0.1)
        sys.exit(f"{self.name} was not ready within 90 s")

    def stop(self, hard=False):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL if hard else signal.SIGTERM)
            self.process.wait(30)
        self.log.close()


def cpu_ticks(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])
    except FileNotFoundError:
        return 0


def postgres_pids(args):
    with open(os.path.join(args.work, "pg", "postmaster.pid")) as f:
        postmaster = int(f.readline())
    pids = [postmaster]
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    if int(f.read().rsplit(")", 1)[1].split()[1]) == postmaster:
                        pids.append(int(entry))
            except (FileNotFoundError, ProcessLookupError):
                pass
    return pids


def createdb(args, name):
    subprocess.run([os.path.join(args.pg_bin, "createdb"), "-h", "127.0.0.1", "-p", str(args.pg_port), "-U", "postgres", name],
                   check=True)


def houses_csv(rows, seed):
    import random
    r = random.Random(seed)
    lines = ["square_footage,rooms,price"]
    for _ in range(rows):
        a, b = r.random(), r.random()
        lines.append(f"{a!r},{b!r},{500000 * a + 100000 * b!r}")
    return ("\n".join(lines) + "\n").encode()


def upload(service, rows, seed):
    status, body = http("POST", service.url + "/api/v1/datasets?name=bench", houses_csv(rows, seed), "text/csv")
    assert status == 201, body
    return body["id"]


SMALL = {"target": "price", "epochs": 1, "hiddenChannels": [4], "batchSize": 32, "activate": False}


def submit(service, dataset, **overrides):
    status, body = http("POST", service.url + "/api/v1/training-jobs", dict(SMALL, datasetId=dataset, **overrides))
    assert status == 202, body
    return body["id"]


def wait_job(service, job, done, timeout=600):
    deadline = time.time() + timeout
    while time.time() < deadline:
        status, body = http("GET", f"{service.url}/api/v1/training-jobs/{job}")
        if status == 200 and done(body):
            return body
        time.sleep(0.02)
    sys.exit(f"job {job} did not reach the state in {timeout} s")


def finished(job):
    return job["status"] in ("succeeded", "failed", "cancelled")


def parse_time(text):
    from datetime import datetime
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def drain(args, workers):
    database = f"drain_{workers}_{int(time.time())}"
    createdb(args, database)
    api = Service(args, database, "api", run_jobs=False).wait_ready()
    pool = []
    try:
        dataset = upload(api, 100, 1)
        # The whole queue is in place before any worker starts, so the drain measures the workers and the store, not
        # how fast the replica accepts submissions.
        with ThreadPoolExecutor(8) as executor:
            jobs = list(executor.map(lambda _: submit(api, dataset), range(args.jobs)))
        pg = postgres_pids(args)
        before_pg = sum(map(cpu_ticks, pg))
        pool = [Service(args, database, f"worker-{i + 1}", run_jobs=True) for i in range(workers)]
        for job in jobs:
            wait_job(api, job, finished)
        pg_cpu = (sum(map(cpu_ticks, postgres_pids(args))) - before_pg) / CLK
        services_cpu = sum(cpu_ticks(w.process.pid) for w in pool) / CLK
        status, listed = http("GET", api.url + "/api/v1/training-jobs?limit=1000")
        mine = [j for j in listed if j["id"] in set(jobs)]
        assert all(j["status"] == "succeeded" for j in mine), [j for j in mine if j["status"] != "succeeded"][:1]
        span = max(parse_time(j["finishedAt"]) for j in mine) - min(parse_time(j["startedAt"]) for j in mine)
        per_worker = {}
        for j in mine:
            per_worker[j["worker"]] = per_worker.get(j["worker"], 0) + 1
        return {"workers": workers, "jobs": len(mine), "drain_s": span, "claims_per_s": len(mine) / span,
                "db_cpu_s": pg_cpu, "service_cpu_s": services_cpu, "db_share": pg_cpu / (pg_cpu + services_cpu),
                "per_worker": per_worker}
    finally:
        for service in pool + [api]:
            service.stop()


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, int(round(p / 100 * len(ordered) + 0.5)) - 1))]


def activation(args):
    database = f"activation_{int(time.time())}"
    createdb(args, database)
    replicas = [Service(args, database, f"api-{i + 1}", run_jobs=False) for i in range(args.replicas)]
    worker = Service(args, database, "worker-1", run_jobs=True)
    for service in replicas + [worker]:
        service.wait_ready()
    try:
        dataset = upload(replicas[0], 100, 2)
        trained = wait_job(replicas[0], submit(replicas[0], dataset), finished)["modelId"]
        default = http("GET", replicas[0].url + "/api/v1/models/active")[1]["id"]
        others = replicas[1:] + [worker]
        latencies = []
        # Two warm-up activations, not counted: each process loads the trained model once (then it is cached).
        for i in range(args.activations + 2):
            target = trained if i % 2 == 0 else default
            seen = []
            start = time.perf_counter()
            status, body = http("POST", f"{replicas[0].url}/api/v1/models/{target}/activate")
            assert status == 200, body

            def follow(service):
                while http("GET", service.url + "/api/v1/models/active")[1]["id"] != target:
                    time.sleep(0.002)
                seen.append(time.perf_counter() - start)

            threads = [threading.Thread(target=follow, args=(s,)) for s in others]
            for t in threads:
                t.start()
            for t in threads:
                t.join(30)
            if i >= 2:
                latencies.append(max(seen) * 1000)
            time.sleep(0.05)
        return {"replicas": len(others) + 1, "activations": len(latencies), "p50_ms": percentile(latencies, 50),
                "p99_ms": percentile(latencies, 99), "max_ms": max(latencies)}
    finally:
        for service in replicas + [worker]:
            service.stop()


def takeover(args, lease, runs):
    database = f"takeover_{lease}_{int(time.time())}"
    createdb(args, database)
    extra = {"Training__LeaseSeconds": str(lease)}
    api = Service(args, database, "api", run_jobs=False).wait_ready()
    workers = {name: Service(args, database, name, True, extra) for name in ("worker-1", "worker-2")}
    for w in workers.values():
        w.wait_ready()
    times = []
    try:
        dataset = upload(api, 2000, 3)
        for run in range(runs):
            job = submit(api, dataset, epochs=1000, batchSize=1)
            running = wait_job(api, job, lambda j: j["status"] == "running" and j["progress"]["epoch"] >= 1)
            victim = running["worker"]
            workers[victim].stop(hard=True)
            start = time.perf_counter()
            again = wait_job(api, job, lambda j: j["status"] == "running" and j["attempts"] == running["attempts"] + 1, 300)
            times.append(time.perf_counter() - start)
            assert again["worker"] != victim
            http("POST", f"{api.url}/api/v1/training-jobs/{job}/cancel")
            wait_job(api, job, finished)
            workers[victim] = Service(args, database, victim, True, extra).wait_ready()
        return {"lease_s": lease, "runs": runs, "times_s": times, "median_s": statistics.median(times)}
    finally:
        for service in list(workers.values()) + [api]:
            service.stop()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--app", required=True)
    parser.add_argument("--pg-port", required=True)
    parser.add_argument("--pg-bin", required=True)
    parser.add_argument("--work", required=True)
    args = parser.parse_args()
    args.jobs = env_int("JOBS", 200)
    args.replicas = env_int("REPLICAS", 3)
    args.activations = env_int("ACTIVATIONS", 100)
    parts = os.environ.get("PARTS", "drain,activation,takeover").split(",")
    with open("/proc/loadavg") as f:
        load = f.read().split()[0]
    print(f"machine: {os.cpu_count()} cores, load average {load} at the start; {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    if "drain" in parts:
        counts = [int(w) for w in os.environ.get("WORKERS", "1 2 4").split()]
        rounds = env_int("ROUNDS", 3)
        print(f"\n== drain: {args.jobs} one-epoch jobs; {rounds} rounds, worker counts interleaved in each")
        print("| round | workers | drain (s) | claims/s | DB CPU (s) | worker CPU (s) | DB share | jobs per worker |")
        print("|---|---|---|---|---|---|---|---|")
        results = {n: [] for n in counts}
        for round_ in range(1, rounds + 1):
            for n in counts:
                r = drain(args, n)
                results[n].append(r)
                print(f"| {round_} | {n} | {r['drain_s']:.1f} | {r['claims_per_s']:.1f} | {r['db_cpu_s']:.1f} | "
                      f"{r['service_cpu_s']:.1f} | {100 * r['db_share']:.1f}% | "
                      f"{', '.join(str(v) for v in sorted(r['per_worker'].values()))} |", flush=True)
        print("\n| workers | median claims/s | vs 1 worker (median of per-round ratios) | median DB share |")
        print("|---|---|---|---|")
        for n in counts:
            ratios = [r["claims_per_s"] / base["claims_per_s"] for r, base in zip(results[n], results[counts[0]])]
            print(f"| {n} | {statistics.median(r['claims_per_s'] for r in results[n]):.1f} | {statistics.median(ratios):.2f}x | "
                  f"{100 * statistics.median(r['db_share'] for r in results[n]):.1f}% |", flush=True)
    if "activation" in parts:
        r = activation(args)
        print(f"\n== activation to every replica: {r['activations']} activations, {r['replicas']} processes")
        print(f"p50 {r['p50_ms']:.0f} ms, p99 {r['p99_ms']:.0f} ms, max {r['max_ms']:.0f} ms", flush=True)
    if "takeover" in parts:
        for lease, runs in ((env_int("KILL_LEASE", 5), env_int("KILLS", 3)), (30, env_int("KILLS_DEFAULT_LEASE", 1))):
            if runs > 0:
                r = takeover(args, lease, runs)
                print(f"\n== kill -9 to running elsewhere, Training:LeaseSeconds={lease}: "
                      f"{', '.join(f'{t:.1f} s' for t in r['times_s'])} (median {r['median_s']:.1f} s)", flush=True)


if __name__ == "__main__":
    main()
