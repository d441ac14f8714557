"""What the benchmarks share (not benchmarks themselves: `make bench` runs only the scripts of benchmarks/)."""
