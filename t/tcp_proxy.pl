#!/usr/bin/perl
# tcp_proxy.pl: a TCP proxy on loopback for fault tests.
#
#   perl t/tcp_proxy.pl LISTEN_PORT TARGET_PORT
#   perl t/tcp_proxy.pl LISTEN_PORT @FILE
#
# Forwards every connection to 127.0.0.1:LISTEN_PORT to 127.0.0.1:TARGET_PORT
# (with @FILE, to the port FILE holds when the connection comes; none yet:
# the connection is closed) and obeys one command per stdin line, answering
# "ok ..." per line:
#   drop       close every open connection, both sides, at once
#   stall MS   forward nothing for MS milliseconds (connections stay open,
#              new ones are accepted and wait)
#   quit       exit (so does end of input)
# Prints "ready" once it listens.
use strict;
use warnings;

use IO::Select;
use IO::Socket::INET;
use Time::HiRes qw(time);

my ($listen_port, $target_port) = @ARGV;
die "usage: tcp_proxy.pl LISTEN_PORT TARGET_PORT\n" unless $listen_port && $target_port;
$| = 1;
$SIG{PIPE} = 'IGNORE';

my $server = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => $listen_port,
	Listen => 64, ReuseAddr => 1) or die "tcp_proxy: listen on $listen_port: $!\n";
my $sel = IO::Select->new($server, \*STDIN);
my %peer;			# socket -> the other side
my $control = IO::Select->new($server, \*STDIN);
my $stall_until = 0;
print "ready\n";

sub close_pair
{
	my ($s) = @_;
	my @pair = ($s, $peer{$s} // ());
	for my $x (@pair)
	{
		$sel->remove($x);
		delete $peer{$x};
		close $x;
	}
}

my $stdin_buf = '';
for (;;)
{
	# stalled: only accept and obey; data waits in the kernel's buffers
	my $stalled = time < $stall_until;
	my @ready = $stalled ? $control->can_read(0.05) : $sel->can_read(0.5);
	for my $s (@ready)
	{
		if ($s == $server)
		{
			my $c = $server->accept or next;
			my $port = $target_port;
			if ($port =~ /^@(.*)/)
			{
				my $fh;
				$port = open($fh, '<', $1) ? <$fh> : '';
				$port = '' unless defined $port && $port =~ /^(\d+)$/;
			}
			my $t = $port && IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port);
			if (!$t)
			{
				close $c;
				next;
			}
			$peer{$c} = $t;
			$peer{$t} = $c;
			$sel->add($c, $t);
			next;
		}
		if ($s == \*STDIN)
		{
			my $n = sysread(STDIN, $stdin_buf, 4096, length $stdin_buf);
			exit 0 unless $n;
			while ($stdin_buf =~ s/^([^\n]*)\n//)
			{
				my @cmd = split ' ', $1;
				next unless @cmd;
				if ($cmd[0] eq 'drop')
				{
					my @conns = grep { $_ != $server && $_ != \*STDIN } $sel->handles;
					for my $x (@conns)
					{
						close_pair($x) if $peer{$x};
					}
					print "ok drop\n";
				}
				elsif ($cmd[0] eq 'stall' && ($cmd[1] // '') =~ /^\d+$/)
				{
					$stall_until = time + $cmd[1] / 1000;
					print "ok stall $cmd[1]\n";
				}
				elsif ($cmd[0] eq 'quit')
				{
					print "ok quit\n";
					exit 0;
				}
				else
				{
					print "error: unknown command \"@cmd\"\n";
				}
			}
			next;
		}
		next unless $peer{$s};
		my $buf;
		my $n = sysread($s, $buf, 65536);
		if (!$n)
		{
			close_pair($s);
			next;
		}
		my $t = $peer{$s};
		my $off = 0;
		while ($off < length $buf)
		{
			my $w = syswrite($t, $buf, length($buf) - $off, $off);
			if (!defined $w)
			{
				close_pair($s);
				last;
			}
			$off += $w;
		}
	}
}
