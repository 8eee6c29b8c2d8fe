import { expect } from 'chai';
import { jarsOfTree, localJarPath } from '../../../src/runtime/provision/kafka-dist';
import { aptPercent } from '../../../src/runtime/provision/system-packages';
import { isModulePackage } from '../../../src/runtime/provision/toxiproxy-build';

describe('reading the provisioning tools\' output', () => {
  it('lists the jars of a Maven dependency tree, the project itself and POM-only artifacts left out', () => {
    const tree = [
      'reliability-lab:kafka-dist:pom:1',
      '+- org.apache.kafka:kafka_2.13:jar:4.4.0:compile',
      '|  +- org.apache.kafka:kafka-clients:jar:4.4.0:compile',
      '|  |  \\- com.github.luben:zstd-jni:jar:1.5.6-6:runtime',
      '|  \\- org.example:bom:pom:1.0:import',
      '\\- io.netty:netty-transport-native-epoll:jar:linux-x86_64:4.1.118.Final:compile',
    ].join('\n');
    const jars = jarsOfTree(tree);
    expect(jars.map((j) => `${j.artifact}@${j.version}`)).to.deep.equal(['kafka_2.13@4.4.0', 'kafka-clients@4.4.0', 'zstd-jni@1.5.6-6', 'netty-transport-native-epoll@4.1.118.Final']);
    expect(localJarPath('/r', jars[3])).to.equal('/r/io/netty/netty-transport-native-epoll/4.1.118.Final/netty-transport-native-epoll-4.1.118.Final-linux-x86_64.jar');
  });

  it('reads apt\'s status lines as one 0–100 % count, downloads the first half', () => {
    expect(aptPercent('dlstatus:1:40.0000:Retrieving file 1 of 3')).to.equal(20);
    expect(aptPercent('pmstatus:redis-server:60.0000:Configuring redis-server')).to.equal(80);
    expect(aptPercent('Reading package lists...')).to.equal(undefined);
  });

  it('tells the packages go build compiles from the standard library', () => {
    expect(isModulePackage('github.com/Shopify/toxiproxy/v2/toxics')).to.equal(true);
    expect(isModulePackage('golang.org/x/sys/unix')).to.equal(true);
    expect(isModulePackage('net/http')).to.equal(false);
    expect(isModulePackage('go: downloading github.com/x/y v1.0.0')).to.equal(false);
  });
});
