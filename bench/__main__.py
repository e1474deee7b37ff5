"""Run every benchmark and print its figures: ``make bench``."""

from bench import bench_books


def main() -> None:
    bench_books.main()


if __name__ == "__main__":
    main()
