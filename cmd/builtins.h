/*
 * builtins.h — every vagent command, one file each in cmd/ (git's
 * builtin.h). Each takes argv with argv[0] = the command's name.
 */
#ifndef VAGENT_CMD_BUILTINS_H
#define VAGENT_CMD_BUILTINS_H

int cmd_audio(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_chat(int argc, char **argv);
int cmd_devices(int argc, char **argv);
int cmd_doctor(int argc, char **argv);
int cmd_help(int argc, char **argv);
int cmd_mock_http(int argc, char **argv);
int cmd_replay(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_speak(int argc, char **argv);
int cmd_trace(int argc, char **argv);
int cmd_transcribe(int argc, char **argv);
int cmd_validate(int argc, char **argv);
int cmd_wer(int argc, char **argv);

#endif
