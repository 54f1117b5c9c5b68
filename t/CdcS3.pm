# The S3-compatible server of the tests (scripts/s3.sh: S3Proxy from Maven
# Central) and the environment that points AWS clients at it.
#
#   my $s3 = CdcS3->start("$dir/s3", 'cdc-test');   # buckets to create
#   local %ENV = (%ENV, $s3->env);                   # AWS_* for clients
#   $s3->stop; $s3->start_again;                     # same endpoint
package CdcS3;
use strict;
use warnings;
use Carp;
use CdcKafka;

sub _run_script
{
	my ($cmd, $dir, @buckets) = @_;
	my $out = `bash $CdcKafka::ROOT/scripts/s3.sh $cmd '$dir' @buckets 2>&1`;
	croak "scripts/s3.sh $cmd failed: $out" if $?;
	return $out;
}

sub start
{
	my ($class, $dir, @buckets) = @_;
	my $out = _run_script('start', $dir, @buckets);
	my %kv = $out =~ /^(\w+)=(\S+)$/mg;
	croak "scripts/s3.sh printed no endpoint: $out" unless $kv{endpoint};
	return bless { dir => $dir, buckets => \@buckets, %kv }, $class;
}

sub endpoint { return $_[0]->{endpoint}; }
sub access_key { return $_[0]->{access_key}; }
sub secret_key { return $_[0]->{secret_key}; }

# What the AWS tools read: static keys, region and endpoint.
sub env
{
	my ($self) = @_;
	return (
		AWS_ACCESS_KEY_ID => $self->{access_key},
		AWS_SECRET_ACCESS_KEY => $self->{secret_key},
		AWS_REGION => $self->{region},
		AWS_ENDPOINT_URL => $self->{endpoint});
}

sub stop { _run_script('stop', $_[0]->{dir}); }

sub start_again
{
	my ($self) = @_;
	my $out = _run_script('start', $self->{dir}, @{ $self->{buckets} });
	my ($ep) = $out =~ /^endpoint=(\S+)$/m;
	croak "the endpoint moved on restart: $ep" unless $ep && $ep eq $self->{endpoint};
}

sub DESTROY { local ($?, $@); eval { $_[0]->stop; }; }

1;
