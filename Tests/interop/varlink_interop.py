#!/usr/bin/env python3
"""Drives karstd with the reference Python varlink library (PyPI: varlink), to prove that a
standard Varlink client works against it unchanged. Usage: varlink_interop.py SOCKET_PATH.
Prints one line per check and exits non-zero on the first failure."""
import sys

import varlink

address = "unix:" + sys.argv[1]


def check(label, condition, detail=""):
    if not condition:
        print(f"FAIL {label} {detail}")
        sys.exit(1)
    print(f"ok   {label}")


with varlink.Client(address=address) as client:
    # GetInfo and every interface description, parsed by the library's own IDL parser.
    with client.open("org.varlink.service") as service:
        info = service.GetInfo()
        check("GetInfo lists the interfaces",
              set(info["interfaces"]) >= {"io.karst.Scheduler", "io.karst.Admin"}, info)
        for name in ("io.karst.Scheduler", "io.karst.Admin", "io.karst.Agent", "io.karst.Protocol"):
            text = service.GetInterfaceDescription(name)["description"]
            parsed = varlink.Interface(text)
            check(f"{name} description parses", parsed.name == name)

    with client.open("io.karst.Scheduler") as scheduler:
        job = scheduler.Submit({"name": "interop", "origin": "gba", "priorityClass": "online",
                                "resources": {"cpu": 2, "memoryGiB": 4}, "durationSeconds": 3600})["job"]
        check("Submit places the job", job["state"] == "running" and job["datacenter"], job)
        got = scheduler.Get(job["id"])["job"]
        check("Get returns it", got["id"] == job["id"] and got["spec"]["name"] == "interop")
        listed = scheduler.List(state="running")["jobs"]
        check("List filters by state", any(j["id"] == job["id"] for j in listed))
        rows = scheduler.ListSummaries(state="running")["jobs"]
        row = next((r for r in rows if r["id"] == job["id"]), None)
        check("ListSummaries shows the job's row",
              row is not None and row["datacenter"] == job["datacenter"] and row["pool"] == job["pool"]
              and row["tenant"] == got["spec"]["tenant"] and row["priorityClass"] == "online"
              and "spec" not in row, row)
        try:
            scheduler.Get("job-999999")
            check("Get of an unknown id fails", False)
        except varlink.VarlinkError as e:
            check("Get of an unknown id is NoSuchJob",
                  e.error() == "io.karst.Scheduler.NoSuchJob" and e.parameters()["id"] == "job-999999")
        try:
            scheduler.Submit({"origin": "mars", "priorityClass": "batch", "resources": {"cpu": 1, "memoryGiB": 1}})
            check("an invalid job fails", False)
        except varlink.VarlinkError as e:
            check("an invalid job is InvalidJob", e.error() == "io.karst.Scheduler.InvalidJob"
                  and e.parameters()["field"] == "origin")

    # A stream: watch a new job through to its modelled completion (the daemon runs 600x fast).
    # The library sends a streaming call when its generator is first iterated, so a thread reads.
    import threading
    import time
    events = []
    finished = threading.Event()

    def follow():
        with varlink.Client(address=address) as watch_client, watch_client.open("io.karst.Scheduler") as watcher:
            for reply in watcher.Watch(_more=True):
                events.append(reply["event"])
                if reply["event"]["kind"] in ("succeeded", "failed") and reply["event"]["job"]["spec"].get("name") == "watched":
                    finished.set()
                    return

    threading.Thread(target=follow, daemon=True).start()
    with client.open("io.karst.Admin") as admin, client.open("io.karst.Scheduler") as scheduler:
        for _ in range(250):
            if admin.Stats()["watchers"] >= 1:
                break
            time.sleep(0.02)
        job = scheduler.Submit({"name": "watched", "origin": "yrd", "priorityClass": "batch",
                                "resources": {"cpu": 1, "memoryGiB": 1}, "durationSeconds": 60})["job"]
        finished.wait(timeout=20)
        kinds = [e["kind"] for e in events if e["job"]["id"] == job["id"]]
        check("Watch streams submitted, placed, succeeded", kinds == ["submitted", "placed", "succeeded"], kinds)

    with client.open("io.karst.Admin") as admin:
        topo = admin.Topology()["datacenters"]
        check("Topology lists the six sites", len(topo) == 6, [d["id"] for d in topo])
        check("Drain", admin.Drain("tc-qixing")["datacenter"]["state"] == "draining")
        check("Resume", admin.Resume("tc-qixing")["datacenter"]["state"] == "active")
        try:
            admin.Drain("atlantis")
            check("an unknown site fails", False)
        except varlink.VarlinkError as e:
            check("an unknown site is NoSuchDatacenter", e.error() == "io.karst.Admin.NoSuchDatacenter")
        stats = admin.Stats()
        check("Stats has every class and the generation", len(stats["pending"]) == 4 and stats["generation"] == 1, stats)
        check("Metrics is Prometheus text", "karst_jobs_submitted_total" in admin.Metrics()["text"])
        check("Reload", admin.Reload()["generation"] == 2)

print("interop: all checks passed")
