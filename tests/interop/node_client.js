// Interop: an independent Node client (@grpc/grpc-js with @grpc/proto-loader),
// loading the published proto at run time, plays operator pushes ->
// assignment -> municipality pulls over mutual TLS against the real handoverd.
//
//   node node_client.js PROTO_DIR PKI_DIR HOST:PORT
'use strict';
const fs = require('fs');
const path = require('path');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');

const [protoDir, pki, address] = process.argv.slice(2);
const definition = protoLoader.loadSync('handover/v1/handover_service.proto', {
  includeDirs: [protoDir], keepCase: true, enums: String, longs: Number, defaults: true,
});
const api = grpc.loadPackageDefinition(definition).handover.v1;

function client(identity) {
  const read = (name) => fs.readFileSync(path.join(pki, name));
  const credentials = grpc.credentials.createSsl(
      read('ca.pem'), read(`${identity}.key`), read(`${identity}.pem`));
  return new api.HandoverService(address, credentials);
}

function call(stub, method, request) {
  const metadata = new grpc.Metadata();
  metadata.set('x-handover-actor', 'node-interop');
  return new Promise((resolve, reject) =>
    stub[method](request, metadata, (error, response) => (error ? reject(error) : resolve(response))));
}

async function main() {
  const form = {
    identity: {
      person_identifier: '99040001', given_names: 'Noda Fiktiv', family_name: 'Interopsen',
      date_of_birth: {year: 1992, month: 4, day: 5},
    },
    household: {type: 'HOUSEHOLD_TYPE_SINGLE_ADULT'},
  };
  const created = await call(client('operator-redcross'), 'CreateCase',
                             {request_id: 'node-1', form});
  const name = created.case.name;
  await call(client('immigration-service-uds'), 'AssignCase',
             {name, municipality_code: '760', request_id: 'node-2'});
  const pulled = await call(client('municipality-760'), 'GetCase', {name});
  if (pulled.case.form.identity.family_name !== 'Interopsen') throw new Error('wrong form');
  if (pulled.case.state !== 'CASE_STATE_ASSIGNED') throw new Error('not assigned');
  try {
    await call(client('municipality-147'), 'GetCase', {name});
    throw new Error('municipality 147 was not refused');
  } catch (error) {
    if (error.code !== grpc.status.NOT_FOUND) throw error;
  }
  console.log('node interop: push, assign, pull, refusal: 1 passed, 0 failed');
}

main().catch((error) => {
  console.error(`node interop failed: ${error.message}`);
  process.exit(1);
});
