"""Run every benchmark and print its figures."""

import sys


def main() -> int:
    print("benchmarks: not yet available (they come with the market-data and engine work)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
