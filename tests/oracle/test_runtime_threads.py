"""The engine's threads as a user meets them: libgomp really runs with the
bounded spin count pt2onnx sets before main (and with the user's own
OMP_WAIT_POLICY / GOMP_SPINCOUNT when given); glibc's malloc really runs with
the tunables pt2onnx sets (and with the user's GLIBC_TUNABLES when given); the
default thread count follows the affinity mask (`taskset`); bench says what it
chose and why."""

import json
import os
import shutil
import subprocess
import unittest


import oracle_common as oc
import runtime_oracle as ro


def clean_env(**extra):
    env = {k: v for k, v in os.environ.items()
           if k not in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT", "OMP_NUM_THREADS", "GLIBC_TUNABLES")}
    env.update(extra)
    return env


def run(args, **env):
    return subprocess.run([oc.PT2ONNX, *map(str, args)], capture_output=True, text=True, timeout=300,
                          env=clean_env(**env))


class Threads(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.work = oc.work_dir("runtime_threads")
        cls.onnx = ro.export_tiny_classifier(cls.work / "tiny.onnx", size=16, channels=8)

    def libgomp_settings(self, **env):
        # OMP_DISPLAY_ENV makes libgomp print what it read, when it loads.
        proc = run(["--version"], OMP_DISPLAY_ENV="verbose", **env)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        settings = {}
        for line in proc.stderr.splitlines():
            if "=" in line and line.startswith("  "):
                key, value = line.strip().split(" = ", 1)
                settings[key] = value.strip("'")
        self.assertIn("GOMP_SPINCOUNT", settings, proc.stderr)
        return settings

    def test_libgomp_spins_2000_rounds_unless_the_user_says_otherwise(self):
        self.assertEqual(self.libgomp_settings()["GOMP_SPINCOUNT"], "2000")
        self.assertEqual(self.libgomp_settings(GOMP_SPINCOUNT="77")["GOMP_SPINCOUNT"], "77")
        passive = self.libgomp_settings(OMP_WAIT_POLICY="passive")
        self.assertEqual(passive["OMP_WAIT_POLICY"], "PASSIVE")
        self.assertEqual(passive["GOMP_SPINCOUNT"], "0")

    def test_bench_says_which_wait_policy_and_thread_count_it_runs_with(self):
        proc = run(["bench", self.onnx, "--seconds", "0.2", "--threads", "2"])
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertIn("waiting threads: spin 2000 rounds, then sleep (pt2onnx's default)", proc.stdout)
        self.assertIn("threads: 2 (--threads)", proc.stdout)
        self.assertRegex(proc.stdout, r"team of 2 threads for \d+ of \d+ runs")
        proc = run(["bench", self.onnx, "--seconds", "0.2", "--json"], GOMP_SPINCOUNT="5000")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        row = json.loads(proc.stdout.strip().splitlines()[-1])
        self.assertEqual(row["wait_policy"], "GOMP_SPINCOUNT=5000 (from the environment)")
        self.assertEqual(row["memory_policy"], "transparent huge pages, freed memory kept for reuse (pt2onnx's default)")

    def test_bench_says_which_memory_policy_it_runs_with(self):
        proc = run(["bench", self.onnx, "--seconds", "0.2"])
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertIn("memory: transparent huge pages, freed memory kept for reuse (pt2onnx's default)", proc.stdout)
        proc = run(["bench", self.onnx, "--seconds", "0.2", "--json"], GLIBC_TUNABLES="glibc.malloc.arena_max=1")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        row = json.loads(proc.stdout.strip().splitlines()[-1])
        self.assertEqual(row["memory_policy"], "GLIBC_TUNABLES=glibc.malloc.arena_max=1 (from the environment)")
        self.assertEqual(row["wait_policy"], "spin 2000 rounds, then sleep (pt2onnx's default)")

    def test_malloc_reuses_freed_memory_with_pt2onnx_tunables(self):
        # A verifying export allocates and frees hundreds of activations. With
        # glibc's defaults each is fresh memory that the kernel maps page by
        # page; with pt2onnx's tunables freed memory is reused (and, where the
        # kernel allows, mapped in huge pages), so the process takes far fewer
        # page faults. GLIBC_TUNABLES set by the user (here empty) keeps glibc's defaults.
        checkpoint = self.work / "faults.pth"
        if not checkpoint.exists():
            oc.save_checkpoint(oc.make_nontrivial_model(2, seed=3), checkpoint, "training")

        def minor_faults(**env):
            proc = subprocess.Popen([oc.PT2ONNX, "export", "--input", str(checkpoint), "--output",
                                     str(self.work / "faults.onnx")], stdout=subprocess.DEVNULL,
                                    stderr=subprocess.PIPE, env=clean_env(**env))
            _, status, usage = os.wait4(proc.pid, 0)
            proc.returncode = os.waitstatus_to_exitcode(status)
            self.assertEqual(proc.returncode, 0, proc.stderr.read())
            proc.stderr.close()
            return usage.ru_minflt

        ours, glibc_default = minor_faults(), minor_faults(GLIBC_TUNABLES="")
        self.assertLess(ours, 0.85 * glibc_default, (ours, glibc_default))

    @unittest.skipUnless(shutil.which("taskset") and os.cpu_count() and os.cpu_count() > 1, "needs taskset and 2 CPUs")
    def test_the_default_thread_count_follows_the_affinity_mask(self):
        proc = subprocess.run(["taskset", "-c", "0", oc.PT2ONNX, "bench", str(self.onnx), "--seconds", "0.2"],
                              capture_output=True, text=True, timeout=300, env=clean_env())
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertIn("threads: 1 (default: 1 core (1 CPU) in the affinity mask", proc.stdout)
        proc = subprocess.run(["taskset", "-c", "0", oc.PT2ONNX, "bench", str(self.onnx), "--seconds", "0.2",
                               "--json"], capture_output=True, text=True, timeout=300, env=clean_env())
        row = json.loads(proc.stdout.strip().splitlines()[-1])
        self.assertEqual(row["threads"], 1)
        self.assertEqual(row["team_runs"] + row["one_thread_runs"], 0)  # one thread: nothing to choose


if __name__ == "__main__":
    unittest.main()
