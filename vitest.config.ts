import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Starts the shared real test bed (etcd, kube-apiserver, kube-controller-manager, versitygw) once.
    globalSetup: ["test/support/global-setup.ts"],
    // Real servers: generous timeouts, and at most two test files at once on a 2-core machine.
    testTimeout: 120_000,
    hookTimeout: 300_000,
    maxWorkers: 2,
    fileParallelism: true,
  },
});
