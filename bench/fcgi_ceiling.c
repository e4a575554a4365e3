/*
 * The FastCGI ceiling: the fastest responder libfcgi allows, answering every
 * request with the same bytes. gudok is measured against it behind the same
 * nginx settings. One FCGX_Request per thread, no accept mutex (see
 * ARCHITECTURE.md, "libfcgi: what bites").
 *
 *   fcgi_ceiling SOCKET_PATH BODY_FILE THREADS
 */
#include <fcgiapp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

static int listen_fd;
static char *body;
static long body_length;
static char header[256];

static void *serve(void *unused) {
    (void)unused;
    FCGX_Request request;
    FCGX_InitRequest(&request, listen_fd, 0);
    while (FCGX_Accept_r(&request) >= 0) {
        FCGX_PutS(header, request.out);
        FCGX_PutStr(body, (int)body_length, request.out);
        FCGX_Finish_r(&request);
    }
    return NULL;
}

static char *read_file(const char *path, long *length) {
    FILE *file = fopen(path, "rb");
    if (!file) { perror(path); exit(1); }
    fseek(file, 0, SEEK_END);
    *length = ftell(file);
    rewind(file);
    char *data = malloc((size_t)*length + 1);
    if (!data || fread(data, 1, (size_t)*length, file) != (size_t)*length) { perror(path); exit(1); }
    fclose(file);
    return data;
}

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: fcgi_ceiling SOCKET_PATH BODY_FILE THREADS\n");
        return 2;
    }
    int threads = atoi(argv[3]);
    body = read_file(argv[2], &body_length);
    snprintf(header, sizeof header,
             "Status: 200 OK\r\nContent-Type: application/json\r\nContent-Length: %ld\r\n\r\n", body_length);

    FCGX_Init();
    listen_fd = FCGX_OpenSocket(argv[1], 1024);
    if (listen_fd < 0) { fprintf(stderr, "cannot listen on %s\n", argv[1]); return 1; }
    chmod(argv[1], 0666);

    pthread_t *ids = calloc((size_t)threads, sizeof *ids);
    for (int i = 0; i < threads; i++) pthread_create(&ids[i], NULL, serve, NULL);
    for (int i = 0; i < threads; i++) pthread_join(ids[i], NULL);
    return 0;
}
