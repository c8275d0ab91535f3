FROM maven:3.9-eclipse-temurin-21 AS build
WORKDIR /build
COPY pom.xml .
RUN mvn -B -q dependency:go-offline
COPY src ./src
RUN mvn -B -q package -DskipTests

FROM eclipse-temurin:21-jre
ARG JAR=target/*.jar
COPY --from=build /build/${JAR} /opt/app/app.jar
ENV JAVA_OPTS="-XX:MaxRAMPercentage=75 -XX:+UseG1GC"
VOLUME /tmp
EXPOSE 8080
ENTRYPOINT exec java $JAVA_OPTS -jar /opt/app/app.jar
