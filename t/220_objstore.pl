# The object store's unit tests (writer/storage/objstore/test) on a local
# directory and on a real S3-compatible server (S3Proxy, scripts/s3.sh):
# the same checks pass on both; put-if-absent lets exactly one of two
# racing writers create each key; wrong credentials, a missing bucket and
# a stopped server fail with the bucket and the operation named and no
# secret shown; credentials come from the environment, profiles in the
# shared files (re-read when rotated) and a web identity.
use strict;
use warnings;

use Digest::SHA ();
use File::Path qw(make_path);
use IO::Socket::INET;
use IPC::Run;
use POSIX ();
use Test::More;
use CdcKafka;
use CdcS3;

my $bin = CdcKafka::program('writer/storage/objstore/test/objstore_test');
my $dir = $ENV{TESTDIR} // die 'TESTDIR unset';
my $s3 = CdcS3->start("$dir/s3", 'cdc-test');
my %aws = $s3->env;
my $secret = $s3->secret_key;

# Runs the objstore_test program; returns (exit code, stdout, stderr).
sub run_tool
{
	my ($env, @args) = @_;
	local %ENV = %ENV;
	delete @ENV{ grep { /^AWS_/ } keys %ENV };
	%ENV = (%ENV, %$env);
	my $err = "$dir/tool.err";
	my $out = `'$bin' @{[ map { "'$_'" } @args ]} 2>'$err'`;
	return ($? >> 8, $out, CdcKafka::slurp($err));
}

# Re-emits the program's TAP lines as this test's assertions.
sub run_suite
{
	my ($label, $env, $url) = @_;
	my ($rc, $out, $err) = run_tool($env, 'suite', $url);
	my @lines = grep { /^(not )?ok \d+ - / } split /\n/, $out;
	ok(@lines >= 20, "$label: the unit tests ran") or diag($out . $err);
	for my $l (@lines)
	{
		my ($not, $name) = $l =~ /^(not )?ok \d+ - (.*)$/;
		ok(!$not, "$label: $name") or diag(join "\n", grep { /^#/ } split /\n/, $out);
	}
	is($rc, 0, "$label: the unit test program exits 0") or diag($err);
}

# --- the server implements conditional PUT (checked with curl, not with
# --- our client, so that a server bug cannot hide behind a client bug)
{
	my @curl = ('curl', '-s', '-o', '/dev/null', '-w', '%{http_code}',
		'--aws-sigv4', 'aws:amz:us-east-1:s3', '-u', "$aws{AWS_ACCESS_KEY_ID}:$secret",
		'-H', 'x-amz-content-sha256: ' . Digest::SHA::sha256_hex('x'), '-H', 'If-None-Match: *',
		'-T', "$dir/x", "$aws{AWS_ENDPOINT_URL}/cdc-test/cond/key");
	open my $fh, '>', "$dir/x" or die;
	print $fh 'x';
	close $fh;
	my $first = `@{[ map { "'$_'" } @curl ]}`;
	my $second = `@{[ map { "'$_'" } @curl ]}`;
	is("$first $second", '200 412',
		'the S3 server: a second PUT If-None-Match: * of a key gets 412');
}

run_suite('local path', {}, "$dir/local/root");
run_suite('file URL', {}, "file://$dir/local/url");
run_suite('S3', { %aws, OBJSTORE_TEST_MULTIPART => 5 * 1024 * 1024 },
	's3://cdc-test/suite/prefix');

# --- two writers race for the same 150 keys: each key has one winner
for my $case (['local', {}, "$dir/local/race"], ['S3', \%aws, 's3://cdc-test/race'])
{
	my ($label, $env, $url) = @$case;
	my %won;
	my (%h, %in, %out, %err);
	for my $tag ('A', 'B')
	{
		$in{$tag} = '';
		$h{$tag} = IPC::Run::start([$bin, 'race', $url, 'log', 150, $tag],
			'<', \$in{$tag}, '>', \$out{$tag}, '2>', \$err{$tag},
			init => sub { delete @ENV{ grep { /^AWS_/ } keys %ENV }; %ENV = (%ENV, %$env); });
	}
	$in{$_} .= "go\n" for 'A', 'B';
	$h{$_}->pump_nb for 'A', 'B';
	my $failed = 0;
	for my $tag ('A', 'B')
	{
		$h{$tag}->finish or $failed++;
		diag($err{$tag}) if $err{$tag};
		$won{$_} .= $tag for split /\n/, $out{$tag};
	}
	is($failed, 0, "$label race: both writers ran without an error");
	my @dup = grep { length $won{$_} > 1 } sort keys %won;
	is(scalar(keys %won), 150, "$label race: every key was created by a writer");
	is_deeply(\@dup, [], "$label race: no key was created twice");
	my $wrong = 0;
	for my $key (sort keys %won)
	{
		my ($rc) = run_tool($env, 'get', $url, $key, "$dir/race.got");
		$wrong++ if $rc || CdcKafka::slurp("$dir/race.got") ne $won{$key};
	}
	is($wrong, 0, "$label race: each key holds its winner's content");
	diag("$label race: A won " . (grep { $won{$_} eq 'A' } keys %won) . " of 150");
}

# --- failures name the bucket and the operation, never the secret
{
	open my $fh, '>', "$dir/small" or die;
	print $fh "data\n";
	close $fh;
	my ($rc, $out, $err) = run_tool({ %aws, AWS_SECRET_ACCESS_KEY => 'not-the-secret-0123' },
		'put', 's3://cdc-test/errs', 'k', "$dir/small");
	is($rc, 1, 'wrong secret: the put fails');
	like($err, qr/S3 put of "errs\/k" in bucket "cdc-test": HTTP 403 SignatureDoesNotMatch/,
		'wrong secret: the error names the operation, the key, the bucket and S3\'s code');
	unlike($err, qr/not-the-secret-0123|\Q$secret\E/, 'wrong secret: no secret in the error');
	ok(-e "$dir/small", 'a failed put leaves the local file to the caller');

	($rc, $out, $err) = run_tool({ %aws, AWS_ACCESS_KEY_ID => 'nobody' },
		'list', 's3://cdc-test/errs', '');
	like($err, qr/S3 list of "errs\/" in bucket "cdc-test": HTTP 403 InvalidAccessKeyId/,
		'an unknown access key: the list fails naming the bucket');

	($rc, $out, $err) = run_tool(\%aws, 'put', 's3://no-such-bucket/t', 'k', "$dir/small");
	is($rc, 1, 'missing bucket: the put fails');
	like($err, qr/S3 put of "t\/k" in bucket "no-such-bucket": HTTP 404 NoSuchBucket/,
		'missing bucket: the error names the bucket and says it does not exist');
	($rc, $out, $err) = run_tool(\%aws, 'get', 's3://no-such-bucket/t', 'k', "$dir/got");
	is($rc, 1, 'missing bucket: a get is an error, not "no such key"');

	$s3->stop;
	($rc, $out, $err) = run_tool({ %aws, OBJSTORE_TEST_ATTEMPTS => 3 },
		'put', 's3://cdc-test/errs', 'k', "$dir/small");
	is($rc, 1, 'server stopped: the put fails');
	like($err, qr/S3 put of "errs\/k" in bucket "cdc-test" failed after 3 attempts: .*(connect|Connection)/i,
		'server stopped: the error names the bucket, the operation and the attempts');
	$s3->start_again;
	($rc, $out, $err) = run_tool(\%aws, 'put', 's3://cdc-test/errs', 'k', "$dir/small");
	is($rc, 0, 'server back: the same put succeeds') or diag($err);
	($rc) = run_tool(\%aws, 'get', 's3://cdc-test/errs', 'k', "$dir/got");
	is(CdcKafka::slurp("$dir/got"), "data\n", 'server back: the object holds the data');
}

# --- credentials from the shared files, re-read when they change
{
	my $home = "$dir/home";
	make_path("$home/.aws");
	my %base = (HOME => $home, AWS_REGION => 'us-east-1',
		AWS_ENDPOINT_URL => $aws{AWS_ENDPOINT_URL});
	my $write = sub {
		my ($file, $text) = @_;
		open my $fh, '>', "$home/.aws/$file" or die;
		print $fh $text;
		close $fh;
	};
	$write->('credentials', "[default]\naws_access_key_id = x\naws_secret_access_key = y\n\n"
		  . "[writer]\n# a comment\naws_access_key_id = $aws{AWS_ACCESS_KEY_ID}\n"
		  . "aws_secret_access_key = $secret\n");
	$write->('config', "[profile cfg]\nregion = us-east-1\n"
		  . "aws_access_key_id = $aws{AWS_ACCESS_KEY_ID}\naws_secret_access_key = $secret\n");
	run_tool({ %aws }, 'put-if-absent', 's3://cdc-test/creds', 'obj', 'hello');

	my ($rc, $out, $err) = run_tool({ %base, AWS_PROFILE => 'writer' }, 'get', 's3://cdc-test/creds', 'obj', "$dir/got");
	is($rc, 0, 'a profile in ~/.aws/credentials (AWS_PROFILE) signs requests') or diag($err);
	($rc, $out, $err) = run_tool({ %base }, 'get', 's3://cdc-test/creds', 'obj', "$dir/got");
	like($err, qr/InvalidAccessKeyId.*credentials from \S+\/\.aws\/credentials \[default\]/,
		'without AWS_PROFILE the default profile is used, and the error says where the keys came from');
	($rc, $out, $err) = run_tool({ %base, AWS_PROFILE => 'cfg' }, 'get', 's3://cdc-test/creds', 'obj', "$dir/got");
	is($rc, 0, 'a profile\'s keys in ~/.aws/config ([profile NAME]) sign requests') or diag($err);
	($rc, $out, $err) = run_tool({ %base, AWS_PROFILE => 'nope' }, 'get', 's3://cdc-test/creds', 'obj', "$dir/got");
	like($err, qr/no AWS credentials found.*profile "nope"/, 'an unknown profile: a clear error');
	($rc, $out, $err) = run_tool({ %base, AWS_SHARED_CREDENTIALS_FILE => "$home/.aws/credentials",
		AWS_PROFILE => 'writer', HOME => '/nonexistent' }, 'get', 's3://cdc-test/creds', 'obj', "$dir/got");
	is($rc, 0, 'AWS_SHARED_CREDENTIALS_FILE names the credentials file') or diag($err);

	# rotation: the process keeps running while the file changes
	my $h = IPC::Run::start([$bin, 'twice', 's3://cdc-test/creds', 'obj'],
		'<', \my $in, '>', \my $tout, '2>', \my $terr,
		init => sub { delete @ENV{ grep { /^AWS_/ } keys %ENV }; %ENV = (%ENV, %base); });
	$h->pump until $tout =~ /first \d+/ || !$h->pumpable;
	like($tout, qr/first 1/, 'rotation: the old (wrong) default keys fail');
	$write->('credentials', "[default]\naws_access_key_id = $aws{AWS_ACCESS_KEY_ID}\n"
		  . "aws_secret_access_key = $secret\n");
	$in .= "go\n";
	$h->finish;
	like($tout, qr/second 0/, 'rotation: the rewritten credentials file is read again by the running process')
		or diag($terr);
}

# --- web identity: a token file exchanged at STS for temporary keys (a
# --- stand-in STS on loopback: AWS's own cannot be reached from here)
{
	my $sts = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0,
		Listen => 5, ReuseAddr => 1) or die "listen: $!";
	my $port = $sts->sockport;
	my $pid = fork() // die;
	if ($pid == 0)
	{
		my $n = 0;
		while (my $c = $sts->accept)
		{
			my ($len, $req) = (0, '');
			while (my $line = <$c>)
			{
				$req .= $line;
				$len = $1 if $line =~ /^Content-Length:\s*(\d+)/i;
				last if $line =~ /^\r?\n$/;
			}
			read($c, my $body, $len);
			$n++;
			open my $log, '>>', "$dir/sts.log" or die;
			print $log "$body\n";
			close $log;
			# expires in 2 minutes: inside the renewal window, so every
			# use renews it
			my @t = gmtime(time + 120);
			my $exp = POSIX::strftime('%Y-%m-%dT%H:%M:%SZ', @t);
			# no SessionToken: S3Proxy refuses session tokens (501, see below)
			my $xml = '<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">'
			  . '<AssumeRoleWithWebIdentityResult><Credentials>'
			  . "<AccessKeyId>$aws{AWS_ACCESS_KEY_ID}</AccessKeyId><SecretAccessKey>$secret</SecretAccessKey>"
			  . "<Expiration>$exp</Expiration>"
			  . '</Credentials></AssumeRoleWithWebIdentityResult></AssumeRoleWithWebIdentityResponse>';
			print $c "HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: "
			  . length($xml) . "\r\nConnection: close\r\n\r\n$xml";
			close $c;
		}
		POSIX::_exit(0);
	}
	close $sts;
	open my $fh, '>', "$dir/token" or die;
	print $fh "eyJ.web-identity.token\n";
	close $fh;
	my %wi = (AWS_WEB_IDENTITY_TOKEN_FILE => "$dir/token",
		AWS_ROLE_ARN => 'arn:aws:iam::123456789012:role/cdc-writer',
		AWS_ENDPOINT_URL_STS => "http://127.0.0.1:$port",
		AWS_REGION => 'us-east-1', AWS_ENDPOINT_URL => $aws{AWS_ENDPOINT_URL},
		HOME => "$dir/nohome");
	my $h = IPC::Run::start([$bin, 'twice', 's3://cdc-test/creds', 'obj'],
		'<', \my $in, '>', \my $tout, '2>', \my $terr,
		init => sub { delete @ENV{ grep { /^AWS_/ } keys %ENV }; %ENV = (%ENV, %wi); });
	$in .= "go\n";
	$h->finish;
	kill 'TERM', $pid;
	waitpid($pid, 0);
	is($tout, "first 0\nsecond 0\n", 'web identity: requests signed with the keys STS returned')
		or diag($terr);
	my @calls = split /\n/, CdcKafka::slurp("$dir/sts.log");
	is(scalar @calls, 2, 'web identity: keys about to expire are renewed before the next request');
	like($calls[0] // '', qr/^Action=AssumeRoleWithWebIdentity&RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fcdc-writer&RoleSessionName=[\w-]+&Version=2011-06-15&WebIdentityToken=eyJ.web-identity.token$/,
		'web identity: the STS call carries the role and the token file\'s token');
}

# --- a session token goes with every request, signed: S3Proxy does not
# --- implement tokens and says so (501), which shows the header arrived
{
	my ($rc, $out, $err) = run_tool({ %aws, AWS_SESSION_TOKEN => 'tok-SECRET-42' },
		'get', 's3://cdc-test/creds', 'obj', "$dir/got");
	like($err, qr/HTTP 501 NotImplemented: A header you provided implies functionality that is not implemented.*credentials from environment$/m,
		'a session token is sent (the server names the header it does not implement), without retries');
	unlike($err, qr/tok-SECRET-42/, 'the session token is not in the error');
}

$s3->stop;
done_testing();
