"""The only modules that import boto3: one per AWS service, each mapping SDK errors to domain errors."""
