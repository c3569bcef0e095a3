#!/usr/bin/env python3
"""netproxy.py: TCP links between stores that a test can cut and heal.

    netproxy.py DIR NAME=LISTEN_PORT:TARGET_PORT ...

Each NAME listens on 127.0.0.1:LISTEN_PORT and forwards every connection,
both ways, to 127.0.0.1:TARGET_PORT. While the file DIR/cut-NAME exists
the link is cut the way a dropped packet cuts it (iptables' DROP, what
Jepsen's partitions use): nothing is forwarded either way and new
connections are held unanswered, but none is closed; once the file is
gone the held bytes flow again, as TCP's retransmissions would deliver
them. The cut is checked every 20 ms. Prints "ready" once every port
listens. Stops on SIGTERM.
"""
import asyncio
import os
import signal
import sys

POLL = 0.02


class Link:
    def __init__(self, directory, name, target):
        self.flag = os.path.join(directory, "cut-" + name)
        self.target = target
        self.open = asyncio.Event()
        self.open.set()

    async def watch(self):
        while True:
            if os.path.exists(self.flag):
                self.open.clear()
            else:
                self.open.set()
            await asyncio.sleep(POLL)

    async def pump(self, reader, writer):
        try:
            while True:
                await self.open.wait()
                data = await reader.read(65536)
                if not data:
                    break
                # bytes read just before a cut wait for the heal
                await self.open.wait()
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            writer.close()

    async def serve(self, reader, writer):
        await self.open.wait()
        try:
            treader, twriter = await asyncio.open_connection(
                "127.0.0.1", self.target)
        except OSError:
            writer.close()
            return
        await asyncio.gather(self.pump(reader, twriter),
                             self.pump(treader, writer))


async def main(directory, specs):
    servers = []
    for spec in specs:
        name, ports = spec.split("=", 1)
        listen, target = (int(p) for p in ports.split(":"))
        link = Link(directory, name, target)
        asyncio.get_running_loop().create_task(link.watch())
        servers.append(await asyncio.start_server(
            link.serve, "127.0.0.1", listen, reuse_address=True))
    print("ready", flush=True)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    await stop.wait()
    for s in servers:
        s.close()


if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.exit("usage: netproxy.py DIR NAME=LISTEN_PORT:TARGET_PORT ...")
    asyncio.run(main(sys.argv[1], sys.argv[2:]))
