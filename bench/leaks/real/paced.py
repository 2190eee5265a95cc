"""paced.py — what the Python load scripts of the real-program recordings
share: a loop that does one second's work per second for a while, and the
request keys of the two "service" subjects (py_lru.py, py_dict.py).
"""
import time


def every_second(secs, work):
    """Calls work() once a second for secs seconds, catching up on lost
    time rather than drifting (a batch that overruns delays the next)."""
    end = time.monotonic() + secs
    tick = time.monotonic()
    while time.monotonic() < end:
        work()
        tick += 1.0
        delay = tick - time.monotonic()
        if delay > 0:
            time.sleep(delay)


def service_key(rnd):
    """A request's key: half to a hot set of 2000 keys, half never seen."""
    if rnd.random() < 0.5:
        return rnd.randrange(2000)
    return (1 << 40) + rnd.getrandbits(40)


def answer_of(key):
    """The 2-8 KB answer a service computes for key (the same every time)."""
    import random
    r = random.Random(key)
    return r.randbytes(r.randint(2048, 8192))
