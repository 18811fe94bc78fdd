"""What an initialization did: reports, comparisons, pictures, linear probes."""
