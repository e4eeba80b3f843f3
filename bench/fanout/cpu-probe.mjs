/**
 * Preloaded into a server under test (`node --import …/cpu-probe.mjs server.js`):
 * answers `{type:'cpu'}` over IPC with its own process.cpuUsage() and RSS, so the
 * benchmark measures the server's CPU and nothing else.
 */
if (process.send) {
  process.on('message', (msg) => {
    if (msg?.type === 'cpu') {
      process.send({ rid: msg.rid, usage: process.cpuUsage(), rss: process.memoryUsage().rss })
    }
  })
}
