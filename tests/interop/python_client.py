"""Interop: an independent Python client (Debian's python3-grpcio), generated
from the published proto only, plays operator pushes -> assignment ->
municipality pulls over mutual TLS against the real handoverd.

    python_client.py GENERATED_DIR PKI_DIR HOST:PORT
"""
import sys

import grpc

sys.path.insert(0, sys.argv[1])
from handover.v1 import form_pb2, handover_service_pb2 as api  # noqa: E402
from handover.v1 import handover_service_pb2_grpc as rpc  # noqa: E402

pki, address = sys.argv[2], sys.argv[3]
metadata = [("x-handover-actor", "python-interop")]


def stub(identity):
    def read(name):
        with open(f"{pki}/{name}", "rb") as f:
            return f.read()

    credentials = grpc.ssl_channel_credentials(
        root_certificates=read("ca.pem"),
        private_key=read(f"{identity}.key"),
        certificate_chain=read(f"{identity}.pem"))
    return rpc.HandoverServiceStub(grpc.secure_channel(address, credentials))


form = form_pb2.HandoverForm()
form.identity.person_identifier = "99030001"
form.identity.given_names = "Pyta Fiktiv"
form.identity.family_name = "Interopsen"
form.identity.date_of_birth.year, form.identity.date_of_birth.month = 1991, 2
form.identity.date_of_birth.day = 3
form.household.type = form_pb2.HOUSEHOLD_TYPE_SINGLE_ADULT

operator = stub("operator-redcross")
case = operator.CreateCase(api.CreateCaseRequest(request_id="python-1", form=form),
                           metadata=metadata).case
assert case.version == 1, case

stub("immigration-service-uds").AssignCase(
    api.AssignCaseRequest(name=case.name, municipality_code="760", request_id="python-2"),
    metadata=metadata)

pulled = stub("municipality-760").GetCase(api.GetCaseRequest(name=case.name),
                                          metadata=metadata).case
assert pulled.form.identity.family_name == "Interopsen", pulled
assert pulled.assignment.municipality_code == "760", pulled

try:
    stub("municipality-147").GetCase(api.GetCaseRequest(name=case.name), metadata=metadata)
    raise AssertionError("municipality 147 was not refused")
except grpc.RpcError as error:
    assert error.code() == grpc.StatusCode.NOT_FOUND, error

print("python interop: push, assign, pull, refusal: 1 passed, 0 failed")
