// Loaded before every test file (scripts/run-tests.mjs). Once a file's tests are all done, a
// handle left open (a server, a store, a timer after a failed assertion skipped its cleanup)
// would keep its process alive and hang the whole run. This gives the file's process 10 s to
// end by itself, then ends it with a failure that names it. It replaces node's
// --test-force-exit, which under --test-concurrency loses test results on the way to the
// parent and still exits 0 (nodejs/node#64833: a CI run here reported 1,810 of 1,816 tests).
import { after } from 'node:test';

after(() => {
  const timer = setTimeout(() => {
    process.stderr.write(
      `${process.argv[1] ?? 'a test file'}: still running 10 s after its last test; ending it. ` +
        `Open: ${process.getActiveResourcesInfo().join(', ')}\n`,
    );
    process.exit(1);
  }, 10_000);
  timer.unref();
});
