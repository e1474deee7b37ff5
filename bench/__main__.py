"""Run every benchmark and print its figures: ``make bench``."""

from bench import (
    bench_books,
    bench_ccxt_guards,
    bench_crash,
    bench_delivery,
    bench_demo,
    bench_engine,
    bench_gate_kucoin,
    bench_more_spot_books,
    bench_recovery,
    bench_spot_books,
    bench_state,
)


def main() -> None:
    bench_books.main()
    print()
    bench_spot_books.main()
    print()
    bench_gate_kucoin.main()
    print()
    bench_more_spot_books.main()
    print()
    bench_engine.main()
    print()
    bench_delivery.main()
    print()
    bench_state.main()
    print()
    bench_recovery.main()
    print()
    bench_crash.main()
    print()
    bench_demo.main()
    print()
    bench_ccxt_guards.main()


if __name__ == "__main__":
    main()
