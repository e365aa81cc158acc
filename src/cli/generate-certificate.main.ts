import { generateCertificate } from './generate-certificate.js';

const outDir = process.argv[2] ?? 'certs';
generateCertificate(outDir)
  .then(({ certFile, keyFile, fingerprint }) => {
    process.stdout.write(
      `Wrote ${certFile} and ${keyFile} (mode 0600), SHA-1 fingerprint ${fingerprint}.\n` +
        `Serve HTTPS with TLS_CERT_FILE=${certFile} TLS_KEY_FILE=${keyFile} npm start\n`,
    );
  })
  .catch((error: unknown) => {
    process.stderr.write(`generate-certificate failed: ${(error as Error).message}\n`);
    process.exit(1);
  });
