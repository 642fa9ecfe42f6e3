"""DynamoDB served by moto inside LocalStack (PROVIDER_OVERRIDE_DYNAMODB=rivet_moto).

LocalStack's own DynamoDB provider forwards to DynamoDB Local, which it downloads together
with a Java 21 runtime on first use; neither can be fetched on the test machines. Every
operation of this provider falls through to moto's DynamoDB backend, which LocalStack already
ships, so CloudFormation tables and the functions' state calls are served in-process.
"""

from localstack.aws.api.dynamodb import DynamodbApi
from localstack.services.plugins import Service, aws_provider


class MotoDynamodbProvider(DynamodbApi):
    # Every handler of the generated API raises NotImplementedError, which is what makes
    # MotoFallbackDispatcher hand the request to moto.
    pass


@aws_provider(api="dynamodb", name="rivet_moto")
def dynamodb_moto():
    from localstack.services.moto import MotoFallbackDispatcher

    return Service.for_provider(MotoDynamodbProvider(), dispatch_table_factory=MotoFallbackDispatcher)
