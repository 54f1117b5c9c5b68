#!/usr/bin/perl
# keepalive_filter.pl SOCKET_PATH|HOST:PORT: a TCP proxy on 127.0.0.1 in
# front of a PostgreSQL server (its unix socket or its TCP port) that passes everything except the server's
# replication keepalives (CopyData messages starting with 'k').  It prints
# its port on the first line, then "dropped N" each time it drops one.
#
# The walsender skips the keepalive it would send on catching up when the
# client has already confirmed everything sent (WalSndWaitForWal); this proxy
# makes that case happen every time instead of now and then.  Clients must
# connect with sslmode=disable and gssencmode=disable: the server's answers
# are then all typed messages, which this parses.
use strict;
use warnings;

use IO::Select;
use IO::Socket::INET;
use IO::Socket::UNIX;

my $path = shift or die "usage: $0 SOCKET_PATH|HOST:PORT\n";
my $listen = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0,
	Listen => 8, ReuseAddr => 1) or die "listen: $!\n";
$| = 1;
print $listen->sockport, "\n";

my $sel = IO::Select->new($listen);
my %peer;		# socket -> the socket it forwards to
my %from_server;	# server socket -> bytes not yet parsed into messages
my $dropped = 0;

sub close_pair
{
	my ($s) = @_;
	my $p = delete $peer{$s};
	for my $x ($s, $p)
	{
		next unless $x;
		delete $peer{$x};
		delete $from_server{$x};
		$sel->remove($x);
		close $x;
	}
}

sub write_all
{
	my ($s, $data) = @_;
	while (length $data)
	{
		my $n = syswrite($s, $data);
		return 0 unless defined $n;
		substr($data, 0, $n) = '';
	}
	return 1;
}

for (;;)
{
	for my $s ($sel->can_read)
	{
		if ($s == $listen)
		{
			my $client = $listen->accept or next;
			my $server = $path =~ /^[^\/]+:\d+$/
			  ? IO::Socket::INET->new(PeerAddr => $path)
			  : IO::Socket::UNIX->new(Peer => $path, Type => SOCK_STREAM);
			unless ($server)
			{
				close $client;
				next;
			}
			$peer{$client} = $server;
			$peer{$server} = $client;
			$from_server{$server} = '';
			$sel->add($client, $server);
			next;
		}
		next unless $peer{$s};
		my $n = sysread($s, my $buf, 65536);
		if (!$n)
		{
			close_pair($s);
			next;
		}
		my $out = $buf;
		if (exists $from_server{$s})
		{
			# type byte, int32 length (itself included), body
			$from_server{$s} .= $buf;
			$out = '';
			while (length $from_server{$s} >= 5)
			{
				my ($type, $len) = unpack('a1 N', $from_server{$s});
				last if length $from_server{$s} < 1 + $len;
				my $msg = substr($from_server{$s}, 0, 1 + $len, '');
				if ($type eq 'd' && $len > 4 && substr($msg, 5, 1) eq 'k')
				{
					$dropped++;
					print "dropped $dropped\n";
					next;
				}
				$out .= $msg;
			}
		}
		close_pair($s) unless write_all($peer{$s}, $out);
	}
}
