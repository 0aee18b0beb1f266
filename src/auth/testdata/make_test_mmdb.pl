#!/usr/bin/perl
# Writes a tiny GeoIP2-Country style MaxMind DB for Kino's access-rule tests.
#   perl make_test_mmdb.pl OUT.mmdb
# Networks: 81.2.69.0/24 -> GB, 1.2.3.0/24 -> US, 2001:db8::/32 -> DE, and 10.9.8.0/24 with a
# record that has no country (to test "unknown country").
use strict;
use warnings;
use MaxMind::DB::Writer::Tree;

my $out = shift @ARGV or die "usage: $0 OUT.mmdb\n";

my %types = (country => 'map', iso_code => 'utf8_string', note => 'utf8_string');
my $tree = MaxMind::DB::Writer::Tree->new(
    ip_version            => 6,
    record_size           => 24,
    database_type         => 'GeoIP2-Country',
    languages             => ['en'],
    description           => { en => 'Kino access rule test database' },
    alias_ipv6_to_ipv4    => 1,
    # The test networks include documentation ranges, which the writer drops by default.
    remove_reserved_networks => 0,
    map_key_type_callback => sub { $types{ $_[0] } },
);

$tree->insert_network('81.2.69.0/24',  { country => { iso_code => 'GB' } });
$tree->insert_network('1.2.3.0/24',    { country => { iso_code => 'US' } });
$tree->insert_network('2001:db8::/32', { country => { iso_code => 'DE' } });
$tree->insert_network('10.9.8.0/24',   { note => 'no country here' });

open my $fh, '>:raw', $out or die "cannot write $out: $!\n";
$tree->write_tree($fh);
close $fh or die "cannot close $out: $!\n";
