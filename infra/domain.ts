import { CfnOutput } from 'aws-cdk-lib';
import { ApiMapping, DomainName, EndpointType, SecurityPolicy, type HttpApi, type IHttpStage } from 'aws-cdk-lib/aws-apigatewayv2';
import { Certificate, CertificateValidation, type ICertificate } from 'aws-cdk-lib/aws-certificatemanager';
import { AaaaRecord, ARecord, HostedZone, RecordTarget } from 'aws-cdk-lib/aws-route53';
import { ApiGatewayv2DomainProperties } from 'aws-cdk-lib/aws-route53-targets';
import { Construct } from 'constructs';
import type { StackConfig } from './config.ts';

/**
 * The API's own domain (context domainName + certificateArn, or + a Route 53
 * hosted zone in which a DNS-validated certificate and alias records are
 * created): vendor consoles hold a URL that survives a stack rebuild. TLS 1.2
 * minimum, regional endpoint. The stack disables the execute-api endpoint when
 * a domain is set, so the custom URL is the only way in.
 */

export interface CustomDomainProps {
  domain: NonNullable<StackConfig['domain']>;
  api: HttpApi;
  stage: IHttpStage;
}

export class CustomDomain extends Construct {
  readonly domainName: DomainName;
  readonly certificate: ICertificate;
  /** `https://<domain>`, the base of every webhook URL. */
  readonly url: string;

  constructor(scope: Construct, id: string, props: CustomDomainProps) {
    super(scope, id);
    const { domain } = props;
    // No lookups: the zone is named by id and name, so synth stays offline.
    const zone = domain.hostedZone ? HostedZone.fromHostedZoneAttributes(this, 'Zone', { hostedZoneId: domain.hostedZone.id, zoneName: domain.hostedZone.name }) : undefined;
    this.certificate = domain.certificateArn
      ? Certificate.fromCertificateArn(this, 'Certificate', domain.certificateArn)
      : new Certificate(this, 'Certificate', { domainName: domain.name, validation: CertificateValidation.fromDns(zone) });
    this.domainName = new DomainName(this, 'DomainName', {
      domainName: domain.name,
      certificate: this.certificate,
      endpointType: EndpointType.REGIONAL,
      securityPolicy: SecurityPolicy.TLS_1_2,
    });
    new ApiMapping(this, 'Mapping', { api: props.api, domainName: this.domainName, stage: props.stage });
    const target = RecordTarget.fromAlias(new ApiGatewayv2DomainProperties(this.domainName.regionalDomainName, this.domainName.regionalHostedZoneId));
    if (zone) {
      new ARecord(this, 'AliasA', { zone, recordName: domain.name, target });
      new AaaaRecord(this, 'AliasAAAA', { zone, recordName: domain.name, target });
    }
    this.url = `https://${domain.name}`;
    new CfnOutput(scope, 'CustomDomainName', { value: domain.name, description: 'The API\'s custom domain (the execute-api endpoint is disabled)' });
    new CfnOutput(scope, 'CustomDomainTarget', {
      value: this.domainName.regionalDomainName,
      description: zone ? 'Alias target of the A/AAAA records created in the hosted zone' : 'Point a CNAME (or alias) for the custom domain at this name in your DNS',
    });
  }
}
